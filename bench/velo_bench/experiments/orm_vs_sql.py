"""Issue 21, item 2: each hand-written SQL path of rentals beside the same work done through the ORM.

For every path that sends hand-written SQL (the `queries.py` modules), the service function as it is and an
ORM version doing the same reads, locks and writes are called alternately, N times each, in-process with the
production settings, each call in a transaction that is rolled back (so every call meets the same data).
Reported per path: CPU of this process per call (`time.process_time`: the Python side, where the ORM's
statement building shows), wall time per call, and statements per call. The rule of the issue: where the ORM
is within 10 % of the hand-written path, the path goes back to the ORM.

Run with the rentals venv and settings against a migrated rentals database, cwd services/rentals:
    DATABASE_URL=... PYTHONPATH=. .venv/bin/python ../../bench/velo_bench/experiments/orm_vs_sql.py [N]
It creates its own tariff, station, bikes and riders inside transactions it rolls back: nothing stays.
"""

import datetime as dt
import json
import statistics
import sys
import time
import uuid

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from fleet.models import Bike, BikeCondition, BikeStatus, Station, Tariff  # noqa: E402
from fleet.selectors import bike_page, tariff_in_force  # noqa: E402
from idempotency.models import IdempotencyRecord  # noqa: E402
from idempotency.services import idempotent_call  # noqa: E402
from outbox.services import outbox_emit  # noqa: E402
from problems.models import ProblemReport  # noqa: E402
from rentals.models import Rental, RentalStatus  # noqa: E402
from rentals.services import rental_finish, rental_finished_event_data, rental_start  # noqa: E402
from riders.models import Rider  # noqa: E402
from riders.selectors import rider_is_deactivated  # noqa: E402
from vehicle_events.services import vehicle_event_record  # noqa: E402
from wallets.models import LedgerEntry, LedgerKind, Wallet  # noqa: E402
from wallets.services import wallet_charge_rental  # noqa: E402


class Rollback(Exception):
    pass


# --- the ORM versions: the same rules, locks and writes as the services' hand-written paths -------------


def orm_tariff_in_force(*, at):
    return (
        Tariff.objects.filter(is_active=True, valid_from__lte=at)
        .order_by("-valid_from", "-created_at")
        .first()
    )


@transaction.atomic
def orm_rental_start(*, user_id, user_email, user_name, bike_id):
    now = timezone.now()
    bike = (
        Bike.objects.select_for_update(of=("self",))
        .annotate(
            in_debt=Exists(Wallet.objects.filter(user_id=user_id, balance__lt=0)),
            has_active=Exists(Rental.objects.filter(user_id=user_id, status=RentalStatus.ACTIVE)),
        )
        .get(id=bike_id)
    )
    assert bike.condition == BikeCondition.OK and not bike.in_debt and not bike.has_active
    assert bike.status == BikeStatus.AVAILABLE
    tariff = orm_tariff_in_force(at=now)
    rental = Rental.objects.create(
        user_id=user_id,
        user_email=user_email,
        user_name=user_name,
        bike=bike,
        bike_number=bike.number,
        status=RentalStatus.ACTIVE,
        started_at=now,
        start_station_id=bike.station_id,
        tariff=tariff,
        tariff_snapshot=tariff.snapshot(),
    )
    bike.status, bike.station_id, bike.updated_at = BikeStatus.RENTED, None, now
    bike.save(update_fields=["status", "station", "updated_at"])
    vehicle_event_record(
        device_id=bike.id, status=bike.status, condition=bike.condition, preferred=("trip_start",),
        lat=bike.lat, lon=bike.lon, timestamp=now, trip_id=rental.id,
    )  # fmt: skip
    outbox_emit(event_type="rental.started", data={"rental_id": str(rental.id)})
    return rental


@transaction.atomic
def orm_rental_finish(*, user_id, rental_id, station_id):
    rental = (
        Rental.objects.select_for_update(of=("self",))
        .annotate(problem_reported=Exists(ProblemReport.objects.filter(rental_id=OuterRef("pk"))))
        .get(id=rental_id, user_id=user_id)
    )
    station = Station.objects.filter(id=station_id, is_active=True).first()
    now = timezone.now()
    rental.status, rental.ended_at, rental.end_station = RentalStatus.FINISHED, now, station
    rental.duration_seconds = max(0, int((now - rental.started_at).total_seconds()))
    rental.unlock_fee_waived = rental.problem_reported
    rental.save(update_fields=["status", "ended_at", "duration_seconds", "end_station", "unlock_fee_waived"])
    bike = Bike.objects.select_for_update().get(id=rental.bike_id)
    bike.status, bike.station, bike.lat, bike.lon = BikeStatus.AVAILABLE, station, station.lat, station.lon
    bike.last_rental_id, bike.updated_at = rental.id, now
    bike.save(update_fields=["status", "station", "lat", "lon", "last_rental_id", "updated_at"])
    vehicle_event_record(
        device_id=bike.id, status=bike.status, condition=bike.condition, preferred=("trip_end",),
        lat=bike.lat, lon=bike.lon, timestamp=now, trip_id=rental.id,
    )  # fmt: skip
    outbox_emit(event_type="rental.finished", data=rental_finished_event_data(rental=rental))
    return rental


def orm_is_deactivated(*, user_id):
    return Rider.objects.filter(user_id=user_id, is_deactivated=True).exists()


def orm_idempotent_call(*, owner_id, key, method, path, payload, handler):
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            owner_id=owner_id, key=key, defaults={"method": method, "path": path, "fingerprint": "f" * 64}
        )
        assert created
        status, body = handler()
        record.response_status, record.response_body = status, body
        record.save(update_fields=["response_status", "response_body"])
        return status, body, False


@transaction.atomic(savepoint=False)
def orm_wallet_charge_rental(*, user_id, rental_id, amount, currency):
    Wallet.objects.get_or_create(user_id=user_id, defaults={"currency": currency})
    wallet = Wallet.objects.select_for_update().get(user_id=user_id)
    created = LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                wallet=wallet, kind=LedgerKind.RENTAL_CHARGE, amount=-amount, currency=currency,
                balance_after=wallet.balance - amount, reason="Rental charge", reference=str(rental_id),
            )
        ],
        ignore_conflicts=True,
    )  # fmt: skip
    wallet.balance -= amount
    wallet.save(update_fields=["balance", "updated_at"])
    return created


def orm_bike_page(*, limit):
    return list(
        Bike.objects.filter(status=BikeStatus.AVAILABLE, condition=BikeCondition.OK)
        .order_by("number", "id")
        .values("id", "number", "model", "status", "condition", "station_id", "lat", "lon")[:limit]
    )


# --- the harness --------------------------------------------------------------------------------------


def measure(fn, n: int, setup=None) -> dict:
    """fn(state) timed n times, each in its own rolled-back transaction after setup() (not timed)."""
    cpu, wall, statements = [], [], None
    for i in range(n):
        try:
            with transaction.atomic():
                state = setup() if setup else None
                if statements is None:
                    with CaptureQueriesContext(connection) as ctx:
                        fn(state)
                    statements = len(ctx.captured_queries)
                    raise Rollback
                c0, w0 = time.process_time(), time.perf_counter()
                fn(state)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
                raise Rollback
        except Rollback:
            pass
        if i == 0:
            continue
    return {
        "cpu_ms": round(statistics.median(cpu) * 1000, 3),
        "cpu_mean_ms": round(statistics.fmean(cpu) * 1000, 3),
        "wall_ms": round(statistics.median(wall) * 1000, 3),
        "statements": statements,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    user_id, other = uuid.uuid4(), uuid.uuid4()
    now = timezone.now()

    def fleet():
        Tariff.objects.create(
            name="orm-vs-sql", unlock_fee=100, price_per_minute=25, daily_cap=2000, currency="EUR",
            valid_from=now - dt.timedelta(days=1),
        )  # fmt: skip
        station = Station.objects.create(name="orm-vs-sql", lat=52.5, lon=13.4, capacity=20)
        bike = Bike.objects.create(number=f"OVS-{uuid.uuid4().hex[:8]}", status=BikeStatus.AVAILABLE,
                                   station=station, lat=52.5, lon=13.4)  # fmt: skip
        return station, bike

    def rented():
        station, bike = fleet()
        rental = rental_start(user_id=user_id, user_email="r@velo.test", user_name="R", bike_id=bike.id)
        return station, rental

    def rider():
        Rider.objects.create(user_id=user_id, is_deactivated=False, status_changed_at=now)

    def wallet():
        Wallet.objects.create(user_id=user_id, balance=10_000, currency="EUR")

    start = {"user_id": user_id, "user_email": "r@velo.test", "user_name": "R"}
    idem = {"owner_id": user_id, "method": "POST", "path": "/api/rentals", "payload": {"bike_id": "x"}}
    pairs = {
        "rent": (
            lambda s: rental_start(**start, bike_id=s[1].id),
            lambda s: orm_rental_start(**start, bike_id=s[1].id),
            fleet,
        ),
        "finish": (
            lambda s: rental_finish(user_id=user_id, rental_id=s[1].id, station_id=s[0].id),
            lambda s: orm_rental_finish(user_id=user_id, rental_id=s[1].id, station_id=s[0].id),
            rented,
        ),
        "tariff in force": (
            lambda s: tariff_in_force(at=now),
            lambda s: orm_tariff_in_force(at=now),
            fleet,
        ),
        "rider deactivated? (every write)": (
            lambda s: rider_is_deactivated(user_id=user_id, for_write=True),
            lambda s: orm_is_deactivated(user_id=user_id),
            rider,
        ),
        "idempotency claim + store (keyed POST)": (
            lambda s: idempotent_call(**idem, key=uuid.uuid4().hex, handler=lambda: (201, {"ok": True})),
            lambda s: orm_idempotent_call(**idem, key=uuid.uuid4().hex, handler=lambda: (201, {"ok": True})),
            None,
        ),
        "wallet charge (per invoice)": (
            lambda s: wallet_charge_rental(
                user_id=user_id, rental_id=uuid.uuid4(), amount=700, currency="EUR"
            ),
            lambda s: orm_wallet_charge_rental(
                user_id=user_id, rental_id=uuid.uuid4(), amount=700, currency="EUR"
            ),
            wallet,
        ),
        "bike page of 100": (
            lambda s: bike_page(limit=100),
            lambda s: orm_bike_page(limit=100),
            None,
        ),
    }
    del other
    results = {}
    for name, (sql_fn, orm_fn, setup) in pairs.items():
        # Alternate in rounds so drift of the machine's load hits both alike.
        rounds = [(measure(sql_fn, n // 5, setup), measure(orm_fn, n // 5, setup)) for _ in range(5)]
        sql = {k: statistics.median(r[0][k] for r in rounds) for k in rounds[0][0]}
        orm = {k: statistics.median(r[1][k] for r in rounds) for k in rounds[0][1]}
        results[name] = {"sql": sql, "orm": orm, "orm_over_sql": round(orm["cpu_ms"] / sql["cpu_ms"], 2)}
        print(
            f"{name:42} sql {sql['cpu_ms']:7.3f} ms CPU ({sql['statements']} stmts)"
            f"   orm {orm['cpu_ms']:7.3f} ms CPU ({orm['statements']} stmts)"
            f"   orm/sql {results[name]['orm_over_sql']}",
            flush=True,
        )
    print(json.dumps(results))


main()
