"""Manage our webhook URL on the SMS Gateway for Android: register, list, delete."""

from __future__ import annotations

import asyncio

import aiohttp
from android_sms_gateway import client as gateway_client
from android_sms_gateway import domain, errors
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.enums import WebhookEvent
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messaging.backends.android import classify

EVENTS = ["sms:sent", "sms:delivered", "sms:failed", "sms:cancelled", "sms:received", "mms:received", "mms:downloaded"]
WEBHOOK_PATH = "/api/v1/webhooks/android"


class Command(BaseCommand):
    help = "Register, list or delete this deployment's webhooks on the SMS Gateway for Android (SMS_GATEWAY_URL)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="Register our URL for the receipt and reply events.")
        register.add_argument("--url", default="", help=f"Default: PUBLIC_BASE_URL + {WEBHOOK_PATH}")
        register.add_argument("--event", action="append", choices=EVENTS, help="Repeat; default: all of them.")
        sub.add_parser("list", help="List the webhooks registered on the gateway.")
        delete = sub.add_parser("delete", help="Delete a webhook by id.")
        delete.add_argument("webhook_id")

    def handle(self, *args, action: str, **options):
        try:
            asyncio.run(getattr(self, f"_{action}")(**options))
        except (errors.APIError, aiohttp.ClientError, OSError) as exc:
            raise CommandError(f"{settings.SMS_GATEWAY_URL}: {classify(exc)}") from exc

    async def _client(self, session):
        return gateway_client.AsyncAPIClient(
            settings.SMS_GATEWAY_LOGIN,
            settings.SMS_GATEWAY_PASSWORD,
            base_url=settings.SMS_GATEWAY_URL,
            http_client=AiohttpAsyncHttpClient(session),
        )

    async def _register(self, *, url: str, event: list[str] | None, **options):
        url = url or settings.PUBLIC_BASE_URL.rstrip("/") + WEBHOOK_PATH
        async with aiohttp.ClientSession() as session:
            client = await self._client(session)
            existing = {(hook.url, hook.event.value) for hook in await client.get_webhooks()}
            for name in event or EVENTS:
                if (url, name) in existing:
                    self.stdout.write(f"already registered: {name} -> {url}")
                    continue
                hook = await client.create_webhook(domain.Webhook(id=None, url=url, event=WebhookEvent(name)))
                self.stdout.write(f"registered {hook.id}: {name} -> {url}")

    async def _list(self, **options):
        async with aiohttp.ClientSession() as session:
            hooks = await (await self._client(session)).get_webhooks()
        for hook in hooks:
            self.stdout.write(f"{hook.id}  {hook.event.value:<14} {hook.url}")
        if not hooks:
            self.stdout.write("No webhooks registered.")

    async def _delete(self, *, webhook_id: str, **options):
        async with aiohttp.ClientSession() as session:
            await (await self._client(session)).delete_webhook(webhook_id)
        self.stdout.write(f"deleted {webhook_id}")
