"""The one clock reservations read. Tests patch `reservations.clock.now` to stand exactly on a boundary;
every expiry decision (SQL included) compares against this value, never against the database's now()."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()
