"""The admin index is a dashboard: what went, how it fared, what is sending, what failed and why; internals
sit under Operations for superusers only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from imports.tests.factories import ImportJobFactory
from inboxerr.tests.factories import UserFactory
from inboxerr.tests.pages import visible_text
from messaging.backends import backend_path
from messaging.models import GatewayHealth, Message, TallyKind
from messaging.tallies import tally
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db
S = Message.Status


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def staff_client():
    """Staff who may do everything with our models, but are not superusers."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["campaigns", "messaging"]))
    client = Client()
    client.force_login(user)
    return client


def page(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_figures_come_from_the_tallies_today_and_over_seven_days(superuser_client):
    now = timezone.now()
    tally(TallyKind.SENT, 1200, at=now)
    tally(TallyKind.DELIVERED, 1100, at=now)
    tally(TallyKind.SENT, 800, at=now - timedelta(days=3))
    tally(TallyKind.DELIVERED, 700, at=now - timedelta(days=3))
    tally(TallyKind.FAILED, 9, at=now - timedelta(days=10))  # older than both

    shown = visible_text(page(superuser_client))

    assert "Sent 1,200 2,000" in shown
    assert "Delivered 1,100 1,800" in shown
    assert "Failed 0 0" in shown
    assert "Delivery rate, 7 days: 90.0%" in shown


def test_the_chart_is_svg_drawn_on_the_server_with_no_script_of_its_own(superuser_client):
    tally(TallyKind.SENT, 42, at=timezone.now())

    html = page(superuser_client)

    assert html.count('<svg class="chart"') == 2  # 24 hours and 14 days
    assert '<polyline class="line sent"' in html
    assert "42 sent, 0 delivered, 0 failed" in html  # the newest column's figures, on hover
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # the CSP allows no inline script
    assert "/static/inboxerr/dashboard.css" in html


def test_running_paused_and_scheduled_campaigns_show_with_their_progress(superuser_client):
    running = CampaignFactory(
        name="Spring sale", status="RUNNING", recipients_count=4, fanout_completed_at=timezone.now()
    )
    MessageFactory.create_batch(3, campaign=running, owner=running.owner, status=S.DELIVERED)
    MessageFactory(campaign=running, owner=running.owner, status=S.QUEUED)
    CampaignFactory(name="Newsletter", status="SCHEDULED", scheduled_at=timezone.now() + timedelta(days=1))
    CampaignFactory(name="Old news", status="COMPLETED")

    shown = visible_text(page(superuser_client))

    assert "Spring sale" in shown
    assert "Running 75.0%" in shown
    assert "Newsletter" in shown
    assert "Scheduled at" in shown
    assert "Old news" not in shown


def test_imports_being_read_are_listed(superuser_client):
    ImportJobFactory(original_filename="customers.csv", status="PROCESSING", total_rows=1500, imported_rows=1490)
    ImportJobFactory(original_filename="finished.csv")

    shown = visible_text(page(superuser_client))

    assert "customers.csv" in shown
    assert "1,500 rows read: 1,490 imported" in shown
    assert "finished.csv" not in shown


def test_the_latest_failures_say_why_in_words(superuser_client):
    MessageFactory(status=S.FAILED, failed_at=timezone.now(), error="30003", phone="+447400000123")
    MessageFactory(status=S.FAILED, failed_at=timezone.now(), error="RESULT_ERROR_NO_SERVICE")

    shown = visible_text(page(superuser_client))

    assert "+447400000123" in shown
    assert "Unreachable: the phone is off or out of coverage. (Twilio 30003)" in shown
    assert "The gateway phone had no mobile service. (RESULT_ERROR_NO_SERVICE)" in shown


def test_the_queue_and_the_health_checks_are_shown(superuser_client):
    MessageFactory.create_batch(2, status=S.QUEUED)
    MessageFactory(status=S.QUEUED, next_attempt_at=timezone.now() + timedelta(minutes=5))

    shown = visible_text(page(superuser_client))

    assert "Due now 2" in shown
    assert "Retrying or later 1" in shown
    assert "Database OK" in shown


def test_refused_credentials_show_when_and_what_the_gateway_said(superuser_client):
    GatewayHealth.objects.create(
        backend=backend_path(), auth_failed_at=timezone.now(), detail="401 Unauthorized: bad password"
    )

    shown = visible_text(page(superuser_client))

    assert "credentials refused at" in shown
    assert "sending is paused. 401 Unauthorized: bad password" in shown
    assert "Gateway Failing" in shown  # the health checks say so too


def test_the_page_costs_the_same_queries_however_much_there_is(superuser_client):
    def load() -> int:
        with CaptureQueriesContext(connection) as queries:
            page(superuser_client)
        return len(queries)

    few = load()
    for _n in range(6):
        campaign = CampaignFactory(status="RUNNING", recipients_count=1, fanout_completed_at=timezone.now())
        MessageFactory(campaign=campaign, owner=campaign.owner, status=S.FAILED, failed_at=timezone.now())
        ImportJobFactory(status="PROCESSING")

    # One count per running campaign shown (at most ten), nothing per failure or import.
    assert load() == few + 6


def test_operations_are_grouped_for_superusers_and_hidden_from_other_staff(superuser_client, staff_client):
    mine = page(superuser_client)
    assert ">Operations<" in mine
    assert "/admin/messaging/taskrecord/" in mine
    assert "/admin/django_q/schedule/" in mine
    operations = superuser_client.get("/admin/operations/")
    assert operations.status_code == 200
    assert "/admin/messaging/gatewayhealth/" in operations.content.decode()

    assert superuser_client.get("/admin/django_q/").status_code == 200  # a breadcrumb's link still works

    theirs = page(staff_client)
    assert ">Operations<" not in theirs
    assert "/admin/messaging/taskrecord/" not in theirs  # moved out of Messaging, not shown elsewhere
    assert "/admin/messaging/message/" in theirs


def test_there_is_no_view_site_link_and_the_root_leads_to_the_dashboard(superuser_client):
    assert "View site" not in page(superuser_client)
    response = superuser_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
