from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the outbox keeps taking inserts while the index is built.
    atomic = False

    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboxevent",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["published_at"],
                name="outbox_published_idx",
            ),
        ),
    ]
