from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking out rents and finishes on a big table (CREATE INDEX CONCURRENTLY).
    atomic = False

    dependencies = [
        ("rentals", "0002_rental_unlock_fee_waived"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="rental",
            index=models.Index(
                condition=models.Q(("status", "finished")),
                fields=["ended_at"],
                name="rental_finished_end_idx",
            ),
        ),
    ]
