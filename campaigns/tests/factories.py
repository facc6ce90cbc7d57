import factory

from campaigns.models import Campaign
from imports.tests.factories import ImportJobFactory
from inboxerr.tests.factories import UserFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    message_content = "Hello {{ name }}"
    import_job = factory.SubFactory(ImportJobFactory, owner=factory.SelfAttribute("..owner"))
