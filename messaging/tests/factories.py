import factory

from inboxerr.tests.factories import UserFactory
from messaging.models import Message, MessageEvent, TaskRecord


class TaskRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskRecord

    owner = factory.SubFactory(UserFactory)
    kind = "send"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    owner = factory.SubFactory(UserFactory)
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")
    content = "Hello there"


class MessageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageEvent

    message = factory.SubFactory(MessageFactory)
    source = "dispatcher"
    kind = "queued"
    status = Message.Status.QUEUED


class OptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.OptOut"  # by label, so this block needs no import of its own

    owner = factory.SubFactory(UserFactory)
    phone = factory.Sequence(lambda n: f"+4474009{n:05d}")
    source = "api"


class AndroidEventFactory(factory.DictFactory):
    """A webhook envelope as the SMS Gateway for Android posts it; pass `event` and `payload`."""

    id = factory.Sequence(lambda n: f"evt-{n}")
    webhookId = "w1"
    deviceId = "d1"
    event = "sms:sent"
    payload = factory.Dict({})
