"""/metrics in Prometheus text format, for staff only (a staff session, or a staff user's API token)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import HttpResponse
from django_q.brokers import get_broker
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from inboxerr.authentication import ApiTokenAuthentication
from inboxerr.metrics import PREFIX


class IsStaff(BasePermission):
    """Metrics describe every user's traffic: a scraper authenticates as a staff user, by token."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


Gauges = Callable[[], dict[str, tuple[str, float]]]


def task_queue_gauges() -> dict[str, tuple[str, float]]:
    return {"task_queue_depth": ("Tasks waiting in the django-q2 broker.", get_broker().queue_size())}


# Callables read at scrape time, {name: (help, value)} each: ours, and those the apps register in ready().
_gauges: list[Gauges] = [task_queue_gauges]


def register_gauges(gauges: Gauges) -> None:
    if gauges not in _gauges:
        _gauges.append(gauges)


class GaugesFromChecks:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauges in _gauges:
            for name, (help_text, value) in gauges().items():
                yield GaugeMetricFamily(f"{PREFIX}{name}", help_text, value=value)


class ErrorsAsJSON(BaseRenderer):
    """What DRF renders here: only errors (a 403 to a scraper without rights), in the API's error shape.
    The metrics themselves are written in get(), in the format the scraper's Accept chooses."""

    media_type = "application/json"
    format = "json"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        # Only errors come here (403 to a scraper without rights): in the API's one error shape.
        return json.dumps(data).encode()


class AnyAccept(BaseContentNegotiation):
    """No 406 for a scraper: Prometheus asks for text/plain or OpenMetrics, others for anything at all."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> Any:
        return None


class MetricsView(APIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaff]
    renderer_classes = [ErrorsAsJSON]
    content_negotiation_class = AnyAccept
    schema = None  # not part of the JSON API

    def get(self, request: Request) -> HttpResponse:
        """The Prometheus text format, whatever the scraper accepts; OpenMetrics when it asks for that."""
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(GaugesFromChecks())
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return HttpResponse(encode(registry), content_type=content_type)
