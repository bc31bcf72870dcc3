import os

from django.core.management.base import BaseCommand

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = "Create or update the operator account from ADMIN_EMAIL / ADMIN_PASSWORD (idempotent)."

    def handle(self, *args, **options) -> None:
        email = os.environ.get("ADMIN_EMAIL", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if not email or not password:
            self.stdout.write("ADMIN_EMAIL or ADMIN_PASSWORD not set; no admin account created.")
            return
        user, created = admin_ensure(email=email, password=password)
        self.stdout.write(f"admin {user.email} {'created' if created else 'up to date'} (id {user.id})")
