"""Erase what is held about one phone number, for one user or for all (messaging.privacy)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imports.phones import InvalidPhone, normalise_phone
from inboxerr import audit
from messaging import privacy


class Command(BaseCommand):
    help = "Erase a phone number's contacts and anonymise its messages (its opt-out is kept), for one user or all."

    def add_arguments(self, parser):
        parser.add_argument("phone", help="In any format: 07400 123456, +44 7400 123456.")
        parser.add_argument("--owner", default="", help="Username whose data to erase; default: every user's.")

    def handle(self, *args, phone: str, owner: str, **options):
        try:
            number = normalise_phone(phone, settings.PHONE_DEFAULT_REGION)
        except InvalidPhone as exc:
            raise CommandError(str(exc)) from None
        owner_id = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user {owner!r}.")
            owner_id = user.pk
        with transaction.atomic():
            erased = privacy.erase_number(phone=number, owner_id=owner_id)
            audit.record(action="privacy.erase", target=number, via="command", detail=erased)
        self.stdout.write(f"{number} ({owner or 'every user'}): " + ", ".join(f"{k} {v}" for k, v in erased.items()))
