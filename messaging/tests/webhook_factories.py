import factory

from inboxerr.tests.factories import UserFactory
from messaging.models import WebhookEndpoint
from messaging.outbound.signing import new_secret


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint as endpoint_create leaves it, written directly (no URL check, no DNS)."""

    class Meta:
        model = WebhookEndpoint

    owner = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/inboxerr")
    secret = factory.LazyFunction(new_secret)
    events = factory.LazyFunction(lambda: ["message.sent", "message.delivered", "message.failed"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.WebhookDelivery"

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event_id = factory.Faker("uuid4")
    event = "message.sent"
    payload = factory.LazyAttribute(lambda d: {"id": str(d.event_id), "event": d.event, "created_at": "", "data": {}})
