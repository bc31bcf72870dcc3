from django.db import migrations

# The insert trigger sent NOTIFY inside every transaction that wrote an outbox row, and PostgreSQL holds a
# database-wide lock from a notifying transaction's pre-commit through its commit, so those transactions
# committed one at a time. The application now sends NOTIFY outbox_event right after the commit
# (outbox.services, on_commit); rows written by plain SQL are found by the relay's poll.
# Reversing recreates the trigger exactly as 0003 made it.
DROP = """
DROP TRIGGER IF EXISTS outbox_event_notify ON outbox_outboxevent;
DROP FUNCTION IF EXISTS outbox_event_notify();
"""


def _recreate():
    from importlib import import_module

    return import_module("outbox.migrations.0003_outbox_notify_trigger").CREATE


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0003_outbox_notify_trigger"),
    ]

    operations = [migrations.RunSQL(DROP, _recreate())]
