"""In-process cost of the MDS vehicle log on the rent→finish path (issue 25), bench only.

Runs rent + finish N times with the log and N times with `vehicle_event_record` replaced by a no-op,
interleaved in blocks of 50, and reports CPU per cycle: this Python process (time.process_time) plus its
PostgreSQL backend (/proc/<pid>/stat of pg_backend_pid(), so the database must run on this machine as a
user whose /proc entries are readable). Mode `services` calls rental_start/rental_finish (no HTTP); mode
`http` sends POST /api/rentals and POST /api/rentals/{id}/finish through Django's test client with a rider
token signed by a key made up for the run (the whole view, authentication and serialization; no web server,
no gateway). Writes to the database it is given (a scratch stack): one station, one bike, one tariff, a
well-funded wallet, the rentals and vehicle events (which stay: the log is append-only). Run with the rentals
venv, cwd services/rentals:
    DATABASE_URL=$RENTALS_DATABASE_URL PYTHONPATH=. .venv/bin/python \
        ../../bench/velo_bench/experiments/vehicle_log_cost.py N services|http
"""

import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ["RIDER_STATUS_CACHE_SECONDS"] = "5"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_KEYS_DIR = tempfile.mkdtemp(prefix="bench-jwt-")
Path(_KEYS_DIR, "bench.pub.pem").write_bytes(
    _KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
)
os.environ["JWT_PUBLIC_KEYS_DIR"] = _KEYS_DIR

import django  # noqa: E402

django.setup()

import rentals.services as rental_services  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from fleet.models import Station, Tariff  # noqa: E402
from fleet.services import bike_create  # noqa: E402
from wallets.models import Wallet  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rider_token(rider: uuid.UUID) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(rider),
        "email": "b@velo.bench",
        "name": "B",
        "roles": ["rider"],
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(hours=1)).timestamp()),
        "token_type": "access",
    }
    return jwt.encode(claims, _KEY, algorithm="RS256", headers={"kid": "bench"})


def http_cycles(n: int, *, client: Client, token: str, bike_id, station_id) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for _ in range(n):
        response = client.post(
            "/api/rentals", {"bike_id": str(bike_id)}, content_type="application/json", **auth
        )
        assert response.status_code == 201, response.content
        rental_id = response.json()["id"]
        response = client.post(
            f"/api/rentals/{rental_id}/finish",
            {"station_id": str(station_id)},
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 200, response.content


def cycles(n: int, *, bike_id, station_id, rider) -> None:
    for _ in range(n):
        rental = rental_services.rental_start(
            user_id=rider, user_email="b@velo.bench", user_name="B", bike_id=bike_id
        )
        rental_services.rental_finish(user_id=rider, rental_id=rental.id, station_id=station_id)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    mode = sys.argv[2] if len(sys.argv) > 2 else "services"
    tag = uuid.uuid4().hex[:8]
    station = Station.objects.create(name=f"bench-log-{tag}", lat=52.5, lon=13.4, capacity=10)
    Tariff.objects.get_or_create(
        name="bench-log", defaults={"unlock_fee": 100, "price_per_minute": 25, "currency": "EUR"}
    )
    bike = bike_create(number=f"BL-{tag}", model="bench", station_id=station.id)
    rider = uuid.uuid4()
    # A running billing worker charges the rides: without money the rider's next rent would be a 402.
    Wallet.objects.create(user_id=rider, balance=10**12, currency=settings.DEFAULT_CURRENCY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    real_record = rental_services.vehicle_event_record
    if mode == "http":
        client, token = Client(), rider_token(rider)

        def run(count: int) -> None:
            http_cycles(count, client=client, token=token, bike_id=bike.id, station_id=station.id)

        run(1)  # the test client's connection is this process's connection: ask its pid now
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
    else:

        def run(count: int) -> None:
            cycles(count, bike_id=bike.id, station_id=station.id, rider=rider)

    run(50)  # warm-up
    totals = {"with log": [0.0, 0.0, 0], "without log": [0.0, 0.0, 0]}
    block = 50
    for i in range(2 * (n // block)):
        label = "with log" if i % 2 == 0 else "without log"
        rental_services.vehicle_event_record = real_record if label == "with log" else (lambda **kwargs: None)
        app0, db0 = time.process_time(), backend_cpu(pid)
        run(block)
        totals[label][0] += time.process_time() - app0
        totals[label][1] += backend_cpu(pid) - db0
        totals[label][2] += block
    rental_services.vehicle_event_record = real_record
    per = {}
    for label, (app, db, count) in totals.items():
        per[label] = (app + db) / count * 1000
        print(
            f"{label:12s} {count} cycles: app {app / count * 1000:.3f} ms + db {db / count * 1000:.3f} ms "
            f"= {per[label]:.3f} ms CPU per rent→finish"
        )
    print(
        f"the log adds {100 * (per['with log'] / per['without log'] - 1):.1f} % CPU per rent→finish ({mode})"
    )


if __name__ == "__main__":
    main()
