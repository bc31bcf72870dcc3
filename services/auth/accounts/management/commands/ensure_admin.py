import os

from django.core.management.base import BaseCommand

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Create the operator account ADMIN_EMAIL once (password ADMIN_PASSWORD, or none: use a password "
        "reset). An existing account is never changed: not re-enabled, re-promoted or re-keyed."
    )

    def handle(self, *args, **options) -> None:
        email = os.environ.get("ADMIN_EMAIL", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if not email:
            self.stdout.write("ADMIN_EMAIL not set; no admin account created.")
            return
        user, created = admin_ensure(email=email, password=password or None)
        if created:
            how = "with ADMIN_PASSWORD" if password else "without a password (set one by password reset)"
            self.stdout.write(f"admin {user.email} created {how} (id {user.id})")
        else:
            self.stdout.write(f"admin {user.email} exists; left unchanged (id {user.id})")
