"""Text the local gateway simulator as a person would: it posts an sms:received to Inboxerr, as a phone does."""

from __future__ import annotations

import json
import urllib.request
from urllib.error import URLError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Make the gateway simulator (manage.py fake_gateway) receive an SMS, so it reaches Inboxerr's inbox."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="sender", required=True, help="The sender's number, e.g. +447400123456.")
        parser.add_argument("--text", required=True, help="What they wrote, e.g. 'Where is my parcel?' or STOP.")
        parser.add_argument(
            "--simulator", default="", help="The simulator's URL; default SMS_GATEWAY_URL, else http://127.0.0.1:9090."
        )

    def handle(self, *args, sender: str, text: str, simulator: str, **options):
        base = (simulator or getattr(settings, "SMS_GATEWAY_URL", "") or "http://127.0.0.1:9090").rstrip("/")
        request = urllib.request.Request(
            f"{base}/simulate/received",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                answer = json.load(response)
        except (URLError, OSError) as exc:
            raise CommandError(
                f"The simulator at {base} did not answer ({exc}); is manage.py fake_gateway running?"
            ) from None
        if not answer["posted_to"]:
            raise CommandError("The simulator has no webhook for sms:received; start it with its default webhooks.")
        self.stdout.write(f"{sender} texted {text!r}; the simulator posted it to {answer['posted_to']} webhook(s).")
