from django.core.management.base import BaseCommand
from django.db import transaction

from fleet.models import Bike, Station, Tariff
from fleet.services import bike_create

# Three stations in central Berlin.
STATIONS = [
    ("Alexanderplatz", 52.521918, 13.413215, 20),
    ("Brandenburger Tor", 52.516275, 13.377704, 15),
    ("Potsdamer Platz", 52.509663, 13.376481, 15),
]
BIKES = 30


class Command(BaseCommand):
    help = "Seed 3 stations, 30 bikes VELO-0001..VELO-0030 and the Standard tariff (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        stations = []
        for name, lat, lon, capacity in STATIONS:
            station, _ = Station.objects.get_or_create(
                name=name, defaults={"lat": lat, "lon": lon, "capacity": capacity}
            )
            stations.append(station)
        created_bikes = 0
        for index in range(1, BIKES + 1):
            station = stations[(index - 1) % len(stations)]
            number = f"VELO-{index:04d}"
            if not Bike.objects.filter(number=number).exists():
                # Through the service, so the bike's first vehicle event is written with it.
                bike_create(number=number, model="Velo City 3", station_id=station.id)
                created_bikes += 1
        tariff = Tariff.objects.filter(name="Standard", is_active=True).first()
        if tariff is None:
            tariff = Tariff.objects.create(
                name="Standard", unlock_fee=100, price_per_minute=25, daily_cap=2000, currency="EUR"
            )
        summary = f"{len(stations)} stations, {created_bikes} new bikes ({BIKES} total), tariff {tariff.id}"
        self.stdout.write(f"seed_demo: {summary}")
