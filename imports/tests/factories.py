import factory
from django.utils import timezone

from imports.models import Contact, ImportJob
from inboxerr.tests.factories import UserFactory


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    owner = factory.SubFactory(UserFactory)
    status = ImportJob.Status.SUCCESS
    original_filename = factory.Sequence(lambda n: f"contacts-{n}.csv")
    size_bytes = 1024
    sha256 = factory.Faker("sha256")
    encoding = "utf-8"
    delimiter = ","
    default_region = "GB"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    import_job = factory.SubFactory(ImportJobFactory)
    owner = factory.SelfAttribute("import_job.owner")
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")
    name = factory.Faker("name")
    variables = factory.LazyFunction(lambda: {"order_no": "A-1"})
    row_number = factory.Sequence(lambda n: n + 2)
