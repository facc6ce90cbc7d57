"""/metrics in Prometheus text format, for staff only (a staff session, or a staff user's API token)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpResponse
from django_q.brokers import get_broker
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from inboxerr.authentication import ApiTokenAuthentication


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
                yield GaugeMetricFamily(name, help_text, value=value)


class MetricsView(APIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaff]
    schema = None  # not part of the JSON API

    def get(self, request):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(GaugesFromChecks())
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
