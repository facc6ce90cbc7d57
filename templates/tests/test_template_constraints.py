import pytest
from django.db import IntegrityError, transaction

from inboxerr.tests.factories import UserFactory
from templates.tests.factories import MessageTemplateFactory


def test_a_name_is_unique_per_owner(db):
    first = MessageTemplateFactory(name="Welcome")

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageTemplateFactory(owner=first.owner, name="Welcome")


def test_two_owners_may_use_the_same_name(db):
    MessageTemplateFactory(name="Welcome")

    assert MessageTemplateFactory(owner=UserFactory(), name="Welcome").pk


def test_the_database_refuses_empty_content(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageTemplateFactory(content="")
