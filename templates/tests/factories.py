import factory

from inboxerr.tests.factories import UserFactory
from templates.models import MessageTemplate
from templates.renderer import compile_template


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    content = "Hello {{ name }}, your order {{ order_no }} has shipped."
    # Derived as the services derive it, so a factory row looks like a saved one.
    variables = factory.LazyAttribute(lambda template: compile_template(template.content).variables)
