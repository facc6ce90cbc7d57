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
