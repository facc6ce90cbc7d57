"""Every API route, walked as a second user: no object of the first is readable, listed or writable."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ImportJobFactory
from inboxerr.tokens import token_create
from inboxerr.urls import router
from messaging.models import InboundMessage, TaskRecord
from messaging.tests.factories import MessageFactory, OptOutFactory
from messaging.tests.webhook_factories import WebhookEndpointFactory
from templates.tests.factories import MessageTemplateFactory

FACTORIES = {
    "template": MessageTemplateFactory,
    "import": lambda owner: ImportJobFactory(owner=owner, status=ImportJob.Status.PROCESSING),
    "campaign": CampaignFactory,
    "message": MessageFactory,
    "task": lambda owner: TaskRecord.objects.create(owner=owner, kind="send", total=0),
    "opt-out": OptOutFactory,
    "webhook": WebhookEndpointFactory,
    "inbox": lambda owner: InboundMessage.objects.create(
        owner=owner, source="android", external_id="e-1", phone="+447400000001", received_at=timezone.now()
    ),
    "auth-token": lambda owner: token_create(user_id=owner.pk)[0],
}
# How each resource's URL names an object: its primary key, or for a token its key (the digest stays inside).
URL_ID = {"auth-token": lambda token: token.token_key}


def detail_routes():
    """(basename, prefix, method, suffix) for every detail route and detail action the router serves."""
    for prefix, viewset, basename in router.registry:
        methods = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        for method, name in methods.items():
            if hasattr(viewset, name):
                yield basename, prefix, method, ""
        for extra in viewset.get_extra_actions():
            if extra.detail:
                for method in extra.mapping:
                    yield basename, prefix, method, f"/{extra.url_path}"


ROUTES = list(detail_routes())


def test_every_registered_resource_is_covered():
    assert {basename for _, _, basename in router.registry} == set(FACTORIES)


@pytest.mark.parametrize(
    ("basename", "prefix", "method", "suffix"), ROUTES, ids=[f"{m} {p}{s}" for _, p, m, s in ROUTES]
)
def test_another_users_object_answers_404_on_every_route(api, other_user, basename, prefix, method, suffix):
    theirs = FACTORIES[basename](owner=other_user)
    before = type(theirs).objects.filter(pk=theirs.pk).values().first()

    url_id = URL_ID.get(basename, lambda obj: obj.pk)(theirs)
    response = getattr(api, method)(f"/api/v1/{prefix}/{url_id}{suffix}", {}, format="json")

    assert response.status_code == 404, response.content
    assert type(theirs).objects.filter(pk=theirs.pk).values().first() == before


LISTS = [(prefix, basename) for prefix, viewset, basename in router.registry if hasattr(viewset, "list")]


@pytest.mark.parametrize(("prefix", "basename"), LISTS, ids=[p for p, _ in LISTS])
def test_no_list_shows_another_users_objects(api, other_user, prefix, basename):
    FACTORIES[basename](owner=other_user)

    response = api.get(f"/api/v1/{prefix}/")

    assert response.status_code == 200
    body = response.json()
    # Tokens, at most API_TOKENS_PER_USER, come unpaginated; the caller sees its own (the one it uses) only.
    listed = body["results"] if isinstance(body, dict) else [t for t in body if not t["current"]]
    assert listed == []
