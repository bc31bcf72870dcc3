"""core.rows: the statements hand-written SQL builds from the models, and rows turned back into instances."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from fleet.models import Tariff
from idempotency.models import IdempotencyRecord
from rentals.models import Rental

from core import rows

pytestmark = pytest.mark.django_db


def test_columns_follow_the_model_so_a_new_field_reaches_every_statement():
    assert rows.columns(Rental) == [field.attname for field in Rental._meta.concrete_fields]
    assert "bike_id" in rows.columns(Rental)  # a foreign key by its column
    assert "id" not in rows.columns(IdempotencyRecord, exclude=["id"])
    assert rows.column_list(Tariff, alias="t").startswith('t."id", t."name"')


def test_insert_statement_and_params_write_what_the_orm_would(tariff):
    record = IdempotencyRecord(owner_id=uuid.uuid4(), key="k", method="POST", path="/p", fingerprint="f")
    statement = rows.insert_statement(IdempotencyRecord, exclude=["id"], suffix="RETURNING id")
    params = rows.insert_params(record, exclude=["id"])
    assert statement.count("%s") == len(params) == len(IdempotencyRecord._meta.concrete_fields) - 1
    assert record.created_at is not None  # auto_now_add applied, as the ORM's save would
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        (record_id,) = cursor.fetchone()
    stored = IdempotencyRecord.objects.get(id=record_id)
    assert (stored.owner_id, stored.key, stored.response_body) == (record.owner_id, "k", None)


def test_instance_from_row_is_a_saved_instance_with_json_decoded(tariff):
    names = rows.columns(Tariff)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rows.column_list(Tariff)} FROM fleet_tariff WHERE id = %s", [tariff.id])
        instance = rows.instance_from_row(Tariff, names, cursor.fetchone())
    assert instance == tariff and not instance._state.adding
    assert instance.snapshot() == tariff.snapshot()


def test_fetch_named_gives_values_by_column_name():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS one, now() AS at, NULL::text AS nothing")
        row = rows.fetch_named(cursor)
        assert (row.one, row.nothing) == (1, None) and isinstance(row.at, dt.datetime)
        cursor.execute("SELECT 1 WHERE false")
        assert rows.fetch_named(cursor) is None
