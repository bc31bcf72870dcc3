import uuid

from core.exceptions import NotFound
from django.db.models import QuerySet

from problems.models import ProblemReport


def problem_list(
    *, status: str | None = None, bike_id: uuid.UUID | None = None
) -> tuple[QuerySet[ProblemReport], list[str]]:
    """Reports newest first, optionally of one status and/or bike."""
    queryset = ProblemReport.objects.all()
    if status is not None:
        queryset = queryset.filter(status=status)
    if bike_id is not None:
        queryset = queryset.filter(bike_id=bike_id)
    return queryset, ["-created_at", "-id"]


def problem_get(*, problem_id: uuid.UUID) -> ProblemReport:
    report = ProblemReport.objects.filter(id=problem_id).first()
    if report is None:
        raise NotFound("Problem report not found.")
    return report
