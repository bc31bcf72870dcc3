"""Hand-written SQL of the riders app (STYLE.md, convention 9): every write asks whether its rider is
deactivated, and the ORM's compile of that EXISTS cost several times its round trip (BENCHMARKS.md, issue
21's per-path table)."""

import uuid

from django.db import connection

IS_DEACTIVATED = "SELECT EXISTS (SELECT 1 FROM riders_rider WHERE user_id = %s AND is_deactivated)"


def is_deactivated(*, user_id: uuid.UUID) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(IS_DEACTIVATED, [user_id])
        return cursor.fetchone()[0]
