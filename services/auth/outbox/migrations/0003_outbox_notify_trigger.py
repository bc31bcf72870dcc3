from django.db import migrations

# Every committed transaction that inserted an unpublished outbox row sends NOTIFY outbox_event, so the
# relay (LISTEN outbox_event) publishes at once instead of at its next poll. A trigger, not application
# code, so rows inserted by SQL (reconciliation backlogs, bench seeds) wake the relay too; NOTIFY is
# delivered only on commit and duplicates within a transaction are folded into one.
CREATE = """
CREATE OR REPLACE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_event', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_event_notify
    AFTER INSERT ON outbox_outboxevent
    FOR EACH ROW WHEN (NEW.published_at IS NULL)
    EXECUTE FUNCTION outbox_event_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS outbox_event_notify ON outbox_outboxevent;
DROP FUNCTION IF EXISTS outbox_event_notify();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0002_outbox_published_idx"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
