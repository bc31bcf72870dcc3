"""Seeding the rentals database with SQL (bench/sql/): the small and the large data set."""

from __future__ import annotations

import os
import subprocess
import time

from velo_bench.common import log, uid
from velo_bench.config import BENCH, LARGE_BIKES, LARGE_RENTALS, SMALL_BIKES, SMALL_RENTALS, STATIONS
from velo_bench.shell import psql


def seed_small(riders: list[dict]) -> dict:
    start = time.time()
    psql(file=BENCH / "sql" / "reset.sql")
    rows = []
    for i in range(1000):
        if i < len(riders):
            r = riders[i]
            rows.append(f"{i}\t{r['user_id']}\t{r['email']}\t{r['name'] or 'Bench Rider'}")
        else:
            rows.append(f"{i}\t{uid('brd-', i)}\tsynthetic{i}@velo.bench\tSynthetic Rider {i}")
    subprocess.run(
        [
            "psql",
            os.environ["RENTALS_DATABASE_URL"],
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            r"\copy bench.riders (idx, user_id, email, name) FROM STDIN",
        ],
        input="\n".join(rows) + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    psql(
        file=BENCH / "sql" / "seed_fleet.sql",
        variables={"stations": STATIONS, "bike_from": 1, "bike_to": SMALL_BIKES},
    )
    psql(
        file=BENCH / "sql" / "seed_rentals.sql",
        variables={"from": 1, "to": SMALL_RENTALS, "nbikes": SMALL_BIKES},
    )
    psql(
        "INSERT INTO wallets_wallet (user_id, balance, currency, created_at, updated_at) "
        "SELECT user_id, 1000000000000, 'EUR', now(), now() FROM bench.riders ON CONFLICT DO NOTHING; "
        "ANALYZE;"
    )
    return {
        "stations": STATIONS,
        "bikes": SMALL_BIKES,
        "rentals": SMALL_RENTALS,
        "seconds": round(time.time() - start, 1),
    }


def seed_large() -> dict:
    start = time.time()
    psql(
        file=BENCH / "sql" / "seed_fleet.sql",
        variables={"stations": STATIONS, "bike_from": SMALL_BIKES + 1, "bike_to": LARGE_BIKES},
    )
    step = 250_000
    for lo in range(SMALL_RENTALS + 1, LARGE_RENTALS + 1, step):
        hi = min(LARGE_RENTALS, lo + step - 1)
        psql(file=BENCH / "sql" / "seed_rentals.sql", variables={"from": lo, "to": hi, "nbikes": LARGE_BIKES})
        log(f"  rentals seeded up to {hi}")
    psql("VACUUM ANALYZE rentals_rental")
    psql("VACUUM ANALYZE fleet_bike")
    counts = psql("SELECT (SELECT count(*) FROM rentals_rental), (SELECT count(*) FROM fleet_bike)").strip()
    rentals, bikes = (int(x) for x in counts.split("|"))
    return {
        "stations": STATIONS,
        "bikes": bikes,
        "rentals": rentals,
        "seconds": round(time.time() - start, 1),
    }
