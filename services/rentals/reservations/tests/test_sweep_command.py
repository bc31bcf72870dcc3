"""The sweeper as the stack runs it: `manage.py sweep_reservations` in its own process, real time."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from fleet.models import Bike, BikeStatus

from reservations.models import Reservation, ReservationStatus
from reservations.tests.conftest import events

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE_DIR = Path(__file__).resolve().parents[2]


def _overdue(bike) -> Reservation:
    now = timezone.now()
    bike.status = BikeStatus.RESERVED
    bike.save(update_fields=["status"])
    return Reservation.objects.create(
        user_id=uuid.uuid4(),
        bike=bike,
        created_at=now - dt.timedelta(minutes=11),
        expires_at=now - dt.timedelta(minutes=1),
    )


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def test_once_expires_and_reports(make_bike):
    reservation = _overdue(make_bike())
    out = io.StringIO()
    call_command("sweep_reservations", "--once", stdout=out)
    assert "expired 1 reservation(s)" in out.getvalue()
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert Bike.objects.get(id=reservation.bike_id).status == BikeStatus.AVAILABLE
    call_command("sweep_reservations", "--once", stdout=io.StringIO())
    assert len(events("reservation.expired")) == 1


def test_loop_sweeps_periodically_and_stops_on_sigterm(make_bike):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
    }
    process = subprocess.Popen(
        # The test settings pin RESERVATION_SWEEP_SECONDS to 15 s; the option overrides it.
        [sys.executable, "manage.py", "sweep_reservations", "--interval", "0.2"],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)  # the first pass has run on an empty table; the next ones must pick these up
        reservations = [_overdue(make_bike()) for _ in range(3)]
        deadline = time.monotonic() + 60  # generous: a loaded CI machine starts Django slowly
        while time.monotonic() < deadline:
            if Reservation.objects.filter(status=ReservationStatus.OPEN).count() == 0:
                break
            time.sleep(0.1)
        assert Reservation.objects.filter(status=ReservationStatus.EXPIRED).count() == 3
        assert sorted(e["data"]["reservation_id"] for e in events("reservation.expired")) == sorted(
            str(r.id) for r in reservations
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
