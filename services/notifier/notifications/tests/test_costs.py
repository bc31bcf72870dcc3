from conftest import TARIFF

from notifications import costs


def test_cost_rule():
    assert costs.rental_cost(duration_seconds=1390, tariff=TARIFF) == 700
    assert costs.rental_cost(duration_seconds=0, tariff=TARIFF) == 100
    assert costs.rental_cost(duration_seconds=24 * 3600 + 60, tariff=TARIFF) == 100 + 2000 + 25


def test_daily_cap_moment():
    assert costs.daily_cap_reached_after(tariff=TARIFF) == 79 * 60 + 1
    assert costs.rental_cost(duration_seconds=79 * 60 + 1, tariff=TARIFF) == 2100
    assert costs.daily_cap_reached_after(tariff=TARIFF | {"daily_cap": None}) is None


def test_money():
    assert costs.money(700, "EUR") == "7.00 EUR"
    assert costs.money(-1205, "EUR") == "-12.05 EUR"
