import uuid

import pytest
from core.exceptions import Conflict, NotFound
from fleet.models import BikeConditionChange
from outbox.models import OutboxEvent
from rentals.services import rental_finish, rental_start

from problems.models import ProblemStatus
from problems.services import problem_report, problem_resolve

pytestmark = pytest.mark.django_db


def _condition(bike) -> str:
    bike.refresh_from_db()
    return bike.condition


def test_brakes_are_unsafe_and_take_the_bike_out_at_once(bike):
    report = problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="brakes", text="No grip")
    assert report.unsafe and _condition(bike) == "needs_check"
    change = BikeConditionChange.objects.get(bike=bike)
    assert (change.source, change.changed_by) == ("problem_reports", None)
    data = OutboxEvent.objects.get(event_type="problem.reported").payload["data"]
    assert (data["category"], data["unsafe"], data["rental_id"]) == ("brakes", True, None)
    assert OutboxEvent.objects.filter(event_type="bike.condition_changed").count() == 1


def test_reports_from_different_riders_reach_the_threshold(bike, settings):
    settings.PROBLEM_REPORTS_TO_CHECK = 2
    first = uuid.uuid4()
    problem_report(bike_id=bike.id, user_id=first, category="lights")
    assert _condition(bike) == "ok"
    with pytest.raises(Conflict):  # the same rider again counts once
        problem_report(bike_id=bike.id, user_id=first, category="tyre")
    assert _condition(bike) == "ok"
    problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="chain")
    assert _condition(bike) == "needs_check"


def test_closed_reports_do_not_count(bike, settings):
    settings.PROBLEM_REPORTS_TO_CHECK = 2
    report = problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="lights")
    problem_resolve(problem_id=report.id, status="rejected", resolved_by=uuid.uuid4())
    problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="lights")
    assert _condition(bike) == "ok"


def test_a_bike_already_out_of_service_keeps_its_condition(bike):
    bike.condition = "in_repair"
    bike.save()
    problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="brakes")
    assert _condition(bike) == "in_repair"
    assert not BikeConditionChange.objects.exists()


def test_unknown_or_retired_bike_is_404(make_bike):
    with pytest.raises(NotFound):
        problem_report(bike_id=uuid.uuid4(), user_id=uuid.uuid4(), category="other")
    with pytest.raises(NotFound):
        problem_report(bike_id=make_bike(status="retired").id, user_id=uuid.uuid4(), category="other")


def test_the_renters_report_waives_the_unlock_fee_of_that_rental_only(bike, tariff):
    rider = uuid.uuid4()
    rental = rental_start(user_id=rider, user_email="a@example.com", user_name="A", bike_id=bike.id)
    report = problem_report(bike_id=bike.id, user_id=rider, category="brakes")
    assert report.rental_id == rental.id
    finished = rental_finish(user_id=rider, rental_id=rental.id)
    assert finished.unlock_fee_waived is True
    event = OutboxEvent.objects.get(event_type="rental.finished").payload
    assert event["data"]["unlock_fee_waived"] is True


def test_without_a_report_the_event_says_not_waived(bike, tariff):
    rider = uuid.uuid4()
    problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="lights")  # someone else's
    rental = rental_start(user_id=rider, user_email="a@example.com", user_name="A", bike_id=bike.id)
    rental_finish(user_id=rider, rental_id=rental.id)
    event = OutboxEvent.objects.get(event_type="rental.finished").payload
    assert event["data"]["unlock_fee_waived"] is False


def test_resolve_once(bike):
    operator = uuid.uuid4()
    report = problem_report(bike_id=bike.id, user_id=uuid.uuid4(), category="lock")
    resolved = problem_resolve(problem_id=report.id, status="resolved", resolved_by=operator, note="Oiled")
    assert resolved.status == ProblemStatus.RESOLVED and resolved.resolved_at is not None
    data = OutboxEvent.objects.get(event_type="problem.resolved").payload["data"]
    assert (data["status"], data["resolved_by"], data["note"]) == ("resolved", str(operator), "Oiled")
    with pytest.raises(Conflict):
        problem_resolve(problem_id=report.id, status="rejected", resolved_by=operator)
    with pytest.raises(NotFound):
        problem_resolve(problem_id=uuid.uuid4(), status="rejected", resolved_by=operator)
