import pytest
from core.exceptions import Conflict
from django.core.management import call_command

from fleet.models import Bike, Station, Tariff
from fleet.services import bike_retire

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["rented", "reserved"])
def test_bike_in_use_cannot_be_retired(make_bike, status):
    bike = make_bike(status=status, at=None)
    with pytest.raises(Conflict):
        bike_retire(bike_id=bike.id)


def test_retire_is_idempotent(bike):
    assert bike_retire(bike_id=bike.id).status == "retired"
    assert bike_retire(bike_id=bike.id).status == "retired"


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    call_command("seed_demo")
    assert Station.objects.count() == 3
    assert Bike.objects.count() == 30
    assert (
        Bike.objects.filter(number="VELO-0001").exists() and Bike.objects.filter(number="VELO-0030").exists()
    )
    tariff = Tariff.objects.get()
    assert (tariff.name, tariff.unlock_fee, tariff.price_per_minute, tariff.daily_cap, tariff.currency) == (
        "Standard",
        100,
        25,
        2000,
        "EUR",
    )
