"""Create (or reuse) a user and print a new API token for it."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from inboxerr.tokens import token_create


class Command(BaseCommand):
    help = "Create a user if it does not exist, then print a new API token (and the password, when one was set)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="Make the user staff and superuser.")
        parser.add_argument(
            "--reset-password", action="store_true", help="Give an existing user a new random password and print it."
        )

    @transaction.atomic
    def handle(self, *args, username: str, email: str, superuser: bool, reset_password: bool, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        password = None
        if created or reset_password:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        if superuser:
            user.is_staff = user.is_superuser = True
        user.save()
        _, token = token_create(user_id=user.pk)

        role = " (superuser)" if user.is_superuser else ""
        self.stdout.write(f"{'Created' if created else 'Found'} user {username!r}{role}")
        if password:
            self.stdout.write(f"password: {password}")
        self.stdout.write(f"token:    {token}")
