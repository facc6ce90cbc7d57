"""Serve a local SMS Gateway for Android (its third-party API) that posts signed webhooks back: no phone needed."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messaging.simulator import SMS_EVENTS, SimulatorConfig, run

# Where Inboxerr receives the android gateway's webhooks, under PUBLIC_BASE_URL.
WEBHOOK_PATH = "/api/v1/webhooks/android"
SIM_LOGIN, SIM_PASSWORD, SIM_SIGNING_KEY = "sim", "sim", "sim-signing-key"


class Command(BaseCommand):
    help = (
        "Serve a fake SMS Gateway for Android on loopback: POST /messages answers after --latency-ms, then "
        "signed sms:sent and sms:delivered (or sms:failed) webhooks are posted back. GET /stats counts what came in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9090)
        parser.add_argument("--latency-ms", type=_non_negative, default=50.0, help="Delay before answering a send.")
        parser.add_argument(
            "--webhook-delay-ms", type=_non_negative, default=20.0, help="Delay before each webhook of a message."
        )
        parser.add_argument(
            "--send-failure-rate", type=_rate, default=0.0, help="Fraction of sends answered 503 and not recorded."
        )
        parser.add_argument(
            "--delivery-failure-rate", type=_rate, default=0.0, help="Fraction of messages ending in sms:failed."
        )
        parser.add_argument("--login", help="Basic auth login (default: SMS_GATEWAY_LOGIN, else sim).")
        parser.add_argument("--password", help="Basic auth password (default: SMS_GATEWAY_PASSWORD, else sim).")
        parser.add_argument(
            "--signing-key", help="Webhook signing key (default: SMS_WEBHOOK_SIGNING_KEY, else sim-signing-key)."
        )
        parser.add_argument(
            "--webhook-url",
            action="append",
            dest="webhook_urls",
            default=[],
            metavar="URL",
            help="Also post every sms:* event here (repeatable).",
        )
        parser.add_argument(
            "--no-default-webhooks",
            action="store_true",
            help=f"Do not post to PUBLIC_BASE_URL + {WEBHOOK_PATH}.",
        )
        parser.add_argument("--seed", type=int, help="Seed the random failures, for a reproducible run.")

    def handle(self, *args, **options):
        config = simulator_config(options)
        try:
            run(config, announce=lambda url: self.stdout.write(announcement(url, config)))
        except OSError as exc:
            raise CommandError(f"Cannot serve on {config.host}:{config.port}: {exc}") from exc
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")


def simulator_config(options: dict[str, Any]) -> SimulatorConfig:
    """The command's options over Django settings over the simulator's own defaults."""
    webhook_urls = list(options["webhook_urls"])
    if not options["no_default_webhooks"]:
        webhook_urls.insert(0, default_webhook_url())
    return SimulatorConfig(
        host=options["host"],
        port=options["port"],
        latency_ms=options["latency_ms"],
        webhook_delay_ms=options["webhook_delay_ms"],
        send_failure_rate=options["send_failure_rate"],
        delivery_failure_rate=options["delivery_failure_rate"],
        login=options["login"] or getattr(settings, "SMS_GATEWAY_LOGIN", "") or SIM_LOGIN,
        password=options["password"] or getattr(settings, "SMS_GATEWAY_PASSWORD", "") or SIM_PASSWORD,
        signing_key=options["signing_key"] or getattr(settings, "SMS_WEBHOOK_SIGNING_KEY", "") or SIM_SIGNING_KEY,
        seed=options["seed"],
        webhook_urls=webhook_urls,
    )


def default_webhook_url() -> str:
    return getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + WEBHOOK_PATH


def announcement(url: str, config: SimulatorConfig) -> str:
    """Where it listens, how to point Inboxerr at it, and where the webhooks go."""
    environment = [f"SMS_BACKEND=android SMS_GATEWAY_URL={url}"]
    # Only what Inboxerr's settings lack: credentials taken from those settings are not echoed to the terminal.
    for name, value in (
        ("SMS_GATEWAY_LOGIN", config.login),
        ("SMS_GATEWAY_PASSWORD", config.password),
        ("SMS_WEBHOOK_SIGNING_KEY", config.signing_key),
    ):
        if getattr(settings, name, "") != value:
            environment.append(f"{name}={value}")
    hooks = "\n".join(f"  {hook}" for hook in config.webhook_urls) or "  none yet (register them with POST /webhooks)"
    return (
        f"Fake SMS gateway listening on {url}: answers sends after {config.latency_ms:g} ms, "
        f"refuses {config.send_failure_rate:.0%} of them with 503, fails {config.delivery_failure_rate:.0%} "
        f"of deliveries.\n"
        f"Point Inboxerr at it:\n  {' '.join(environment)}\n"
        f"Posting signed {', '.join(SMS_EVENTS)} webhooks to:\n{hooks}\n"
        f"Counters: GET {url}/stats (POST {url}/stats/reset clears them). Ctrl+C stops."
    )


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return rate


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number
