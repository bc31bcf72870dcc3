"""Velo billing worker (Celery application ``billing``)."""

from billing.celery import app

__all__ = ["app"]
