"""The one bridge between hand-written SQL and model instances.

Hand-written statements live in one `queries.py` per app (STYLE.md, convention 9). Their column lists come
from the models through `columns`, their INSERTs through `insert_statement` / `insert_params`, and rows they
return become model instances through `instance_from_row` / `mark_saved`. Nothing else reaches into the
ORM's internals, so a column added to a model reaches every statement that names the model's columns.
"""

from collections import namedtuple
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.db import connection
from django.db.models import Model


def columns(model: type[Model], *, exclude: Iterable[str] = ()) -> list[str]:
    """The model's concrete column names in field order (`attname`, so `bike_id` for a foreign key)."""
    skipped = set(exclude)
    return [field.attname for field in model._meta.concrete_fields if field.attname not in skipped]


def column_list(model: type[Model], *, alias: str = "", exclude: Iterable[str] = ()) -> str:
    """`columns` as a quoted SQL list, each prefixed with `alias.` when given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + connection.ops.quote_name(name) for name in columns(model, exclude=exclude))


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def insert_statement(model: type[Model], *, exclude: Iterable[str] = (), suffix: str = "") -> str:
    """INSERT of the concrete columns of `model` (but `exclude`, e.g. a serial id), values as
    `insert_params` gives them; `suffix` is appended (ON CONFLICT, RETURNING)."""
    names = columns(model, exclude=exclude)
    return "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608 (names from the model)
        table(model),
        column_list(model, exclude=exclude),
        ", ".join(["%s"] * len(names)),
        f" {suffix}" if suffix else "",
    )


def insert_params(instance: Model, *, exclude: Iterable[str] = ()) -> list:
    """What the ORM's INSERT would send for `instance` (defaults, auto_now, JSON adaptation included)."""
    skipped = set(exclude)
    return [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection)
        for field in instance._meta.concrete_fields
        if field.attname not in skipped
    ]


def insert_returning_id(*, cursor, statement: str, instance: Model, exclude: Iterable[str] = ("id",)) -> bool:
    """Run an `insert_statement(..., exclude=..., suffix="... RETURNING id")` for `instance`. True when a row
    was inserted: the instance then has its id and counts as saved. False when the statement inserted
    nothing (an `ON CONFLICT DO NOTHING` that met an existing row)."""
    cursor.execute(statement, insert_params(instance, exclude=exclude))
    row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    mark_saved(instance)
    return True


def instance_from_row(model: type[Model], names: Sequence[str], row: Sequence) -> Model:
    """A saved instance of `model` from a row whose values are in the order of `names` (attnames)."""
    instance = model.from_db(connection.alias, list(names), list(row))
    for field in model._meta.concrete_fields:
        # Raw cursors hand json columns over undecoded; the ORM's from_db_value would have decoded them.
        value = getattr(instance, field.attname)
        if field.get_internal_type() == "JSONField" and isinstance(value, str):
            setattr(instance, field.attname, field.from_db_value(value, None, connection))
    return instance


def mark_saved(instance: Model) -> Model:
    """Mark an instance whose row a hand-written statement has just written as loaded from the database."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> type:
    return namedtuple("Row", names)


def fetch_named(cursor):
    """The cursor's next row with its values by column name (None when there is none)."""
    row = cursor.fetchone()
    if row is None:
        return None
    return _row_type(tuple(column.name for column in cursor.description))(*row)
