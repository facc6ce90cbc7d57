"""/metrics in Prometheus text format, for staff only (a staff session, or a staff user's API token)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from knox.auth import TokenAuthentication
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView


class IsStaff(BasePermission):
    """Metrics describe every user's traffic: a scraper authenticates as a staff user, by token."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class GaugesFromChecks:
    """Gauges read at scrape time from each app's METRICS_GAUGES callables: {name: (help, value)}."""

    def collect(self):
        for path in settings.METRICS_GAUGES:
            for name, (help_text, value) in import_string(path)().items():
                yield GaugeMetricFamily(name, help_text, value=value)


def task_queue_gauges() -> dict[str, tuple[str, float]]:
    return {"task_queue_depth": ("Tasks waiting in the django-q2 broker.", get_broker().queue_size())}


class MetricsView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaff]
    schema = None  # not part of the JSON API

    def get(self, request):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(GaugesFromChecks())
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
