"""Every admin URL, for every registered model and every custom view, turns away anyone who is not staff."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ImportJobFactory

# Open to everyone by design: the login form, and logging out.
PUBLIC = {"login", "logout"}


def concrete(route: str) -> str:
    # The staff check runs before any object is looked up, so any id will do.
    return re.sub(r"<[^>]+>", "1", route)


def admin_paths() -> list[str]:
    paths = []
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern) and pattern.name and pattern.name not in PUBLIC:
            if pattern.name == "app_list":
                paths += [f"/admin/{label}/" for label in {m._meta.app_label for m in admin.site._registry}]
            else:
                paths.append("/admin/" + concrete(str(pattern.pattern)))
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        paths += [base + concrete(str(p.pattern)) for p in model_admin.get_urls() if p.name]
    return sorted(paths)


PATHS = admin_paths()


def test_the_walk_covers_our_models_and_custom_views():
    assert "/admin/" in PATHS
    assert "/admin/campaigns/campaign/1/change/" in PATHS
    assert "/admin/imports/importjob/upload/" in PATHS
    assert "/admin/imports/importjob/1/cancel/" in PATHS
    assert "/admin/auth/user/1/password/" in PATHS


@pytest.fixture(params=["anonymous", "not staff"])
def outsider(request, client, user):
    if request.param == "not staff":
        client.force_login(user)
    return client


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", PATHS)
def test_every_admin_url_sends_outsiders_to_the_login_page(outsider, path, method):
    response = getattr(outsider, method)(path)

    assert response.status_code == 302, path
    assert response["Location"].startswith("/admin/login/"), response["Location"]


def test_a_non_staff_user_cannot_delete_a_campaign_through_the_admin(client, user):
    campaign = CampaignFactory(owner=user)
    client.force_login(user)

    client.post(f"/admin/campaigns/campaign/{campaign.pk}/delete/", {"post": "yes"})

    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_non_staff_user_cannot_cancel_an_import_through_the_admin(client, user):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.PROCESSING)
    client.force_login(user)

    client.post(f"/admin/imports/importjob/{job.pk}/cancel/")

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PROCESSING


def test_a_non_staff_user_cannot_make_themselves_staff_through_the_admin(client, user):
    client.force_login(user)

    client.post(f"/admin/auth/user/{user.pk}/change/", {"username": user.username, "is_staff": "on"})

    user.refresh_from_db()
    assert not user.is_staff
