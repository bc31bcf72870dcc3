"""The MDS endpoints' notion of now (patched in tests to look at an hour after it closed)."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()
