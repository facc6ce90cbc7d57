"""Fan-out: one personalised QUEUED message per contact, skipping opt-outs, safe to repeat."""

from datetime import timedelta

from django.utils import timezone
from django_q.models import OrmQ

from campaigns import fanout, services, tasks
from campaigns.fanout import campaign_fan_out
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from imports.models import ImportJob
from imports.tests.factories import ContactFactory, ImportJobFactory
from messaging.models import Message, OptOut
from templates.tests.factories import MessageTemplateFactory


def running(user, job, **fields):
    campaign = CampaignFactory(owner=user, import_job=job, **fields)
    return services.campaign_start(campaign=campaign)


def test_each_contact_gets_one_rendered_queued_message_with_its_lineage(user, contacts_import):
    campaign = running(
        user, contacts_import, message_content='Hi {{ name }}, order {{ order_no }} to {{ city|default:"you" }}'
    )

    result = campaign_fan_out(campaign_id=campaign.pk)

    messages = {m.phone: m for m in Message.objects.filter(campaign=campaign)}
    assert (result.recipients, result.queued) == (3, 3)
    assert messages["+447400000000"].content == "Hi Person 0, order A-0 to Leeds"
    assert messages["+447400000002"].content == "Hi Person 2, order A-2 to you"
    first = messages["+447400000000"]
    assert first.status == Message.Status.QUEUED
    assert (first.owner, first.import_job, first.contact.phone) == (user, contacts_import, first.phone)
    assert first.variables == {"order_no": "A-0", "city": "Leeds"}
    assert first.parts_count == 1
    campaign.refresh_from_db()
    assert campaign.fanout_completed_at
    assert campaign.recipients_count == 3


def test_a_template_campaign_uses_the_template(user, contacts_import):
    template = MessageTemplateFactory(owner=user, content="Order {{ order_no }} shipped")
    campaign = running(user, contacts_import, message_content="", template=template)

    campaign_fan_out(campaign_id=campaign.pk)

    assert sorted(Message.objects.values_list("content", flat=True)) == [f"Order A-{i} shipped" for i in range(3)]


def test_parts_are_counted_per_message(user):
    job = ImportJobFactory(owner=user, column_mapping={"variables": {"Note": "note"}})
    ContactFactory(import_job=job, phone="+447400000001", variables={"note": "x" * 200})
    ContactFactory(import_job=job, phone="+447400000002", variables={"note": "€"})
    campaign = running(user, job, message_content="{{ note }}")

    campaign_fan_out(campaign_id=campaign.pk)

    assert dict(Message.objects.values_list("phone", "parts_count")) == {"+447400000001": 2, "+447400000002": 1}


def test_opted_out_contacts_are_skipped_and_counted(user, contacts_import):
    OptOut.objects.create(owner=user, phone="+447400000001", source="api")
    campaign = running(user, contacts_import, message_content="Hi")

    result = campaign_fan_out(campaign_id=campaign.pk)

    assert result.skipped_opted_out == 1
    assert "+447400000001" not in set(Message.objects.values_list("phone", flat=True))
    campaign.refresh_from_db()
    assert campaign.skipped_opted_out == 1


def test_another_owners_opt_out_does_not_count(user, other_user, contacts_import):
    OptOut.objects.create(owner=other_user, phone="+447400000001", source="api")
    campaign = running(user, contacts_import, message_content="Hi")

    assert campaign_fan_out(campaign_id=campaign.pk).skipped_opted_out == 0


def test_a_contact_whose_value_is_empty_is_skipped_not_sent_a_hole(user, contacts_import):
    campaign = running(user, contacts_import, message_content="Deliver to {{ city }}")

    result = campaign_fan_out(campaign_id=campaign.pk)

    assert result.skipped_missing_variables == 1
    assert Message.objects.count() == 2
    assert not Message.objects.filter(content__contains="{{").exists()


def test_it_runs_in_batches_and_repeating_it_creates_nothing_new(user, monkeypatch):
    job = ImportJobFactory(owner=user, status=ImportJob.Status.SUCCESS)
    ContactFactory.create_batch(7, import_job=job)
    monkeypatch.setattr(fanout, "BATCH_SIZE", 3)
    campaign = running(user, job, message_content="Hi {{ name }}")

    campaign_fan_out(campaign_id=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(fanout_completed_at=None, fanout_heartbeat_at=None)
    again = campaign_fan_out(campaign_id=campaign.pk)

    assert Message.objects.filter(campaign=campaign).count() == 7
    assert again.recipients == 7


def test_a_fan_out_stops_at_the_next_batch_when_the_campaign_is_cancelled(user, monkeypatch, contacts_import):
    monkeypatch.setattr(fanout, "BATCH_SIZE", 1)
    campaign = running(user, contacts_import, message_content="Hi")

    def cancel_after_first_batch(result):
        services.campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))

    result = campaign_fan_out(campaign_id=campaign.pk, on_batch=cancel_after_first_batch)

    assert result.recipients == 2  # the second batch was read, then refused
    tasks.sync_messages(campaign.pk)  # queued by the cancel
    assert list(Message.objects.values_list("status", flat=True)) == [Message.Status.CANCELLED]


def test_a_fan_out_already_running_elsewhere_is_left_alone(user, contacts_import):
    campaign = running(user, contacts_import, message_content="Hi")
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=timezone.now())

    assert campaign_fan_out(campaign_id=campaign.pk) is None
    assert not Message.objects.exists()


def test_a_draft_or_finished_campaign_is_not_fanned_out(user, contacts_import):
    campaign = CampaignFactory(owner=user, import_job=contacts_import)

    assert campaign_fan_out(campaign_id=campaign.pk) is None


def test_the_clock_requeues_a_fan_out_whose_worker_died(user, contacts_import):
    campaign = running(user, contacts_import, message_content="Hi")
    long_ago = timezone.now() - timedelta(minutes=10)
    Campaign.objects.filter(pk=campaign.pk).update(fanout_heartbeat_at=long_ago, started_at=long_ago)

    result = tasks.tick()

    assert result["fan_out_requeued"] == [campaign.pk]
    assert [q.func() for q in OrmQ.objects.all()] == ["campaigns.tasks.fan_out"]


def test_the_text_is_frozen_when_the_campaign_starts(user, contacts_import):
    template = MessageTemplateFactory(owner=user, content="Old {{ name }}")
    campaign = running(user, contacts_import, message_content="", template=template)
    template.content = "New {{ name }}"
    template.save()

    campaign_fan_out(campaign_id=campaign.pk)

    assert set(Message.objects.values_list("content", flat=True)) == {"Old Person 0", "Old Person 1", "Old Person 2"}


def test_a_fan_out_asked_to_stop_ends_after_its_batch_and_frees_the_campaign(user, contacts_import, monkeypatch):
    from inboxerr import shutdown

    campaign = running(user, contacts_import, message_content="Hi")
    monkeypatch.setattr(fanout, "BATCH_SIZE", 2)
    monkeypatch.setattr(shutdown, "requested", lambda: True)

    result = campaign_fan_out(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert (result.queued, Message.objects.filter(campaign=campaign).count()) == (2, 2)
    assert (campaign.fanout_completed_at, campaign.fanout_heartbeat_at) == (None, None)

    monkeypatch.setattr(shutdown, "requested", lambda: False)
    campaign_fan_out(campaign_id=campaign.pk)  # the next one, on a worker that is not stopping

    campaign.refresh_from_db()
    assert Message.objects.filter(campaign=campaign).count() == 3
    assert campaign.fanout_completed_at
