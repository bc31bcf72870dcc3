from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: rentals keep starting and finishing while the indexes are built.
    atomic = False

    dependencies = [
        ("rentals", "0002_rental_unlock_fee_waived"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="rental",
            index=models.Index(fields=["started_at"], name="rental_started_idx"),
        ),
        AddIndexConcurrently(
            model_name="rental",
            index=models.Index(
                fields=["ended_at"],
                include=["duration_seconds", "cost_amount", "cost_currency", "billed_at"],
                name="rental_ended_idx",
            ),
        ),
    ]
