"""Tampered pagination cursors are a 400 invalid_cursor that never repeats the cursor, and admin date
filters no date can match answer the admin's own "incorrect lookup" page: never a 500."""

from __future__ import annotations

import base64

import pytest
from django.contrib import admin

from imports.tests.factories import ContactFactory, ImportJobFactory
from inboxerr.admin import ModelAdmin
from inboxerr.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def cursor(text: bytes) -> str:
    return base64.b64encode(text).decode()


TAMPERED = [
    cursor(b"p=x"),
    cursor(b"p=" + b"9" * 40),
    cursor(b"p=" + b"x" * 6000),  # the ~8 KB cursor an attacker used to fill the logs
    cursor(b"o=-1"),
    cursor(b"r=zz"),
    cursor(b"\xff\xfe"),
    "not base64 at all!",
]


@pytest.mark.parametrize("tampered", TAMPERED)
def test_a_tampered_cursor_on_messages_is_a_400_invalid_cursor(api, tampered):
    response = api.get("/api/v1/messages/", {"cursor": tampered})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"
    assert tampered not in response.content.decode()


@pytest.mark.parametrize("tampered", TAMPERED)
def test_a_tampered_cursor_on_an_imports_contacts_is_a_400_invalid_cursor(api, user, tampered):
    job = ImportJobFactory(owner=user, status="SUCCESS")
    ContactFactory(import_job=job)

    response = api.get(f"/api/v1/imports/{job.pk}/contacts", {"cursor": tampered})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_a_cursor_the_api_gave_out_still_pages(api, user):
    job = ImportJobFactory(owner=user, status="SUCCESS")
    ContactFactory.create_batch(3, import_job=job)

    first = api.get(f"/api/v1/imports/{job.pk}/contacts", {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


# On each changelist the query names one of that model's own date fields in place of created_at.
OUT_OF_RANGE = [
    "created_at__year=99999999999999999999",
    "created_at__year=0x10",
    "created_at__month=99999999999999999999999&created_at__year=2026",
    "created_at__day__gte=-99999999999999",
    "created_at__year__in=2026,99999999999999999999",
    "created_at__year=²",
    "created_at__month=¹&created_at__year=2026",
]


def admin_urls() -> list[str]:
    """Every changelist on the site, ours and other apps' (users, the task queue), on their date fields."""
    urls = []
    for model in admin.site._registry:
        dates = [f.name for f in model._meta.get_fields() if getattr(f, "get_internal_type", lambda: "")() in DATES]
        if dates:
            urls.append((f"/admin/{model._meta.app_label}/{model._meta.model_name}/", dates[0]))
    return urls


DATES = {"DateTimeField", "DateField"}


def test_every_admin_of_ours_is_built_on_the_checked_base():
    ours = {"message_templates", "imports", "campaigns", "messaging"}
    loose = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ours and not isinstance(model_admin, ModelAdmin)
    ]

    assert admin_urls()
    assert loose == []


@pytest.mark.parametrize("query", OUT_OF_RANGE)
def test_an_admin_date_filter_no_date_can_match_is_the_admins_own_error_page(client, query):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    answers = {
        url: client.get(f"{url}?{query.replace('created_at', field)}").status_code for url, field in admin_urls()
    }

    # 302 to ?e=1: the admin's "incorrect lookup" notice, as for any filter it cannot apply.
    assert set(answers.values()) == {302}, answers
