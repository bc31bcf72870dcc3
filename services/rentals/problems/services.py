"""Rider problem reports and the rules that take a bike out of service.

Rules (services/rentals/README.md, "Problem reports"):
- a report in an unsafe category (brakes) moves an `ok` bike to `needs_check` at once;
- so do `PROBLEM_REPORTS_TO_CHECK` (2) open reports on the bike from different riders;
- a report filed by the bike's current renter is linked to the rental; finishing that rental waives the
  unlock fee (the rental and its rental.finished event carry `unlock_fee_waived`, billing applies it).
The bike row is locked first, as renting locks it, so a report and a rent of the same bike never interleave.
"""

import datetime as dt
import uuid

from core.exceptions import Conflict, NotFound, ValidationFailed
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from fleet.models import Bike, BikeCondition, BikeStatus, ConditionSource
from fleet.services import bike_condition_change_locked
from outbox.services import outbox_emit
from rentals.models import Rental, RentalStatus

from problems.models import UNSAFE_CATEGORIES, ProblemCategory, ProblemReport, ProblemStatus


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _check_reason(*, report: ProblemReport, open_reporters: int) -> str | None:
    """Why this report takes the bike out of service, or None."""
    if report.unsafe:
        return f"Rider reported an unsafe problem ({report.category})."
    if open_reporters >= settings.PROBLEM_REPORTS_TO_CHECK:
        return f"{open_reporters} riders reported problems."
    return None


@transaction.atomic
def problem_report(*, bike_id: uuid.UUID, user_id: uuid.UUID, category: str, text: str = "") -> ProblemReport:
    if category not in ProblemCategory.values:
        raise ValidationFailed("Invalid category.", errors={"category": ["Unknown category."]})
    bike = Bike.objects.select_for_update().filter(id=bike_id).first()
    if bike is None or bike.status == BikeStatus.RETIRED:
        raise NotFound("Bike not found.")
    rental_id = (
        Rental.objects.filter(user_id=user_id, bike_id=bike_id, status=RentalStatus.ACTIVE)
        .values_list("id", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            report = ProblemReport.objects.create(
                bike=bike,
                user_id=user_id,
                rental_id=rental_id,
                category=category,
                unsafe=category in UNSAFE_CATEGORIES,
                text=text,
            )
    except IntegrityError:
        raise Conflict("You already have an open report for this bike.")
    outbox_emit(
        event_type="problem.reported",
        data={
            "problem_id": str(report.id),
            "bike_id": str(bike.id),
            "bike_number": bike.number,
            "user_id": str(user_id),
            "rental_id": str(rental_id) if rental_id else None,
            "category": category,
            "unsafe": report.unsafe,
            "text": text,
            "reported_at": _iso(report.created_at),
        },
    )
    if bike.condition == BikeCondition.OK:
        open_reporters = (
            ProblemReport.objects.filter(bike=bike, status=ProblemStatus.OPEN)
            .values("user_id")
            .distinct()
            .count()
        )
        reason = _check_reason(report=report, open_reporters=open_reporters)
        if reason is not None:
            bike_condition_change_locked(
                bike=bike,
                condition=BikeCondition.NEEDS_CHECK,
                reason=reason,
                source=ConditionSource.PROBLEM_REPORTS,
                changed_by=None,
            )
    return report


@transaction.atomic
def problem_resolve(
    *, problem_id: uuid.UUID, status: str, resolved_by: uuid.UUID, note: str = ""
) -> ProblemReport:
    """Close an open report as resolved or rejected (409 once closed). The bike's condition is the
    operator's separate decision (`POST /api/bikes/{id}/condition`)."""
    if status not in (ProblemStatus.RESOLVED, ProblemStatus.REJECTED):
        raise ValidationFailed("Invalid status.", errors={"status": ["Must be resolved or rejected."]})
    report = ProblemReport.objects.select_for_update().filter(id=problem_id).first()
    if report is None:
        raise NotFound("Problem report not found.")
    if report.status != ProblemStatus.OPEN:
        raise Conflict(f"The report is already {report.status}.")
    report.status = status
    report.resolved_at = timezone.now()
    report.resolved_by = resolved_by
    report.resolution_note = note
    report.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    outbox_emit(
        event_type="problem.resolved",
        data={
            "problem_id": str(report.id),
            "bike_id": str(report.bike_id),
            "status": status,
            "note": note,
            "resolved_by": str(resolved_by),
            "resolved_at": _iso(report.resolved_at),
        },
    )
    return report
