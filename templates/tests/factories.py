import factory

from inboxerr.tests.factories import UserFactory
from templates.models import MessageTemplate


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    content = "Hello {{ name }}, your order {{ order_no }} has shipped."
    variables = factory.LazyFunction(lambda: ["name", "order_no"])
