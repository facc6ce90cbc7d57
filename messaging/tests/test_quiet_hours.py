"""Quiet hours: a message goes out only while its recipient's local time is inside its window, read from the
number's time zones (all of them, where it spans several); it waits in the queue, not in a worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from messaging import dispatcher
from messaging.models import Message, Waiting
from messaging.send_windows import WindowClock, next_opening, parse_window, zones_of
from messaging.tests.factories import MessageFactory

UK, NEW_YORK, LOS_ANGELES, INDIA = "+447400123456", "+12125551234", "+16505551234", "+919812345678"
RUSSIA, AUSTRALIA, US_TOLL_FREE = "+79161234567", "+61412345678", "+18005550123"
DAY = parse_window("08:00-21:00")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("08:00-21:00", "08:00-21:00"),
        (" 8:00-21:00", None),
        ("21:00-07:30", "21:00-07:30"),
        ("00:00-24:00", "00:00-24:00"),
    ],
)
def test_a_window_is_read_in_one_form(text, normal):
    if normal is None:
        with pytest.raises(ValidationError, match='like "08:00-21:00"'):
            parse_window(text)
    else:
        assert str(parse_window(text)) == normal


@pytest.mark.parametrize("text", ["08:00", "25:00-26:00", "08:00-08:00", "8-21", "08:60-21:00"])
def test_a_window_that_is_no_window_is_refused(text):
    with pytest.raises(ValidationError):
        parse_window(text)


def test_a_window_past_midnight_is_open_at_night():
    night = parse_window("21:00-07:00")

    assert night.contains(datetime(2026, 12, 5, 23, 30))
    assert night.contains(datetime(2026, 12, 5, 6, 59))
    assert not night.contains(datetime(2026, 12, 5, 7, 0))


@pytest.mark.parametrize(
    ("phone", "zones"),
    [
        (UK, {"Europe/London", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"}),
        (NEW_YORK, {"America/New_York"}),
        (LOS_ANGELES, {"America/Los_Angeles"}),
        (INDIA, {"Asia/Calcutta"}),
    ],
)
def test_a_numbers_time_zones_come_from_the_number(phone, zones):
    assert {zone.key for zone in zones_of(phone)} == zones


def test_a_number_with_no_known_zone_is_read_in_the_deployments_time_zone(settings):
    assert [zone.key for zone in zones_of("+15551234567")] == [settings.TIME_ZONE]


@pytest.mark.parametrize(
    ("phone", "now", "opening"),
    [
        # 22:00 in London (GMT in December): tomorrow at 08:00 London, 08:00 UTC.
        (UK, "2026-12-05T22:00", "2026-12-06T08:00"),
        # 10:00 UTC is 05:00 in New York (EST, UTC-5): today at 08:00 New York, 13:00 UTC.
        (NEW_YORK, "2026-12-05T10:00", "2026-12-05T13:00"),
        (LOS_ANGELES, "2026-12-05T10:00", "2026-12-05T16:00"),
        # 18:00 UTC is 23:30 in India (UTC+5:30): tomorrow at 08:00 India, 02:30 UTC.
        (INDIA, "2026-12-05T18:00", "2026-12-06T02:30"),
        # Open now: now.
        (UK, "2026-12-05T12:00", "2026-12-05T12:00"),
        # British Summer Time: 08:00 London is 07:00 UTC.
        (UK, "2026-07-01T05:00", "2026-07-01T07:00"),
    ],
)
def test_the_window_opens_at_the_recipients_own_morning(phone, now, opening):
    assert next_opening(DAY, zones_of(phone), at(now)) == at(opening)


def test_a_number_in_several_zones_gets_the_hours_inside_the_window_in_all_of_them():
    # An Australian mobile may be anywhere from Cocos (UTC+6:30) to Lord Howe (UTC+11 in December): 08:00 in
    # Lord Howe is 21:00 UTC the day before, when Cocos is at 03:30. The first moment all are inside
    # 08:00-21:00 is 08:00 in Cocos (01:30 UTC), when Lord Howe is at 12:30.
    opening = next_opening(DAY, zones_of(AUSTRALIA), at("2026-12-05T12:00"))

    assert opening == at("2026-12-06T01:30")
    for zone in zones_of(AUSTRALIA):
        assert DAY.contains(opening.astimezone(zone))
    # A minute before, Cocos is still at 07:59.
    assert not DAY.contains((opening - timedelta(minutes=1)).astimezone(ZoneInfo("Indian/Cocos")))


def test_a_russian_mobile_waits_for_the_few_hours_that_suit_all_eleven_time_zones():
    opening = next_opening(DAY, zones_of(RUSSIA), at("2026-12-05T12:00"))

    assert opening is not None
    assert all(DAY.contains(opening.astimezone(zone)) for zone in zones_of(RUSSIA))


def test_a_number_whose_zones_never_share_an_hour_inside_the_window_has_no_opening():
    # A US toll-free number may ring anywhere from Guam (UTC+10, the day ahead) round to St John's (UTC-3:30):
    # their clocks are 10.5 hours apart, so a 13-hour window shares 2.5 hours and an 8-hour one none.
    office = parse_window("09:00-17:00")
    assert next_opening(DAY, zones_of(US_TOLL_FREE), at("2026-12-05T12:00")) is not None
    assert next_opening(office, zones_of(US_TOLL_FREE), at("2026-12-05T12:00")) is None


def test_a_clock_reads_each_set_of_zones_once():
    clock = WindowClock("08:00-21:00", at("2026-12-05T22:00"))

    with mock.patch("messaging.send_windows.next_opening", wraps=next_opening) as computed:
        openings = [clock.opening_for(phone) for phone in (UK, "+447400123457", "+447400123458", INDIA)]

    assert openings[:3] == [at("2026-12-06T08:00")] * 3
    assert openings[3] == at("2026-12-06T02:30")
    assert computed.call_count == 2


@pytest.mark.django_db
def test_a_single_send_may_opt_in_and_then_waits_for_the_recipients_morning(api):
    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T22:00")):
        response = api.post(
            "/api/v1/messages/send/", {"phone": UK, "content": "Hi", "quiet_hours": "08:00-21:00"}, format="json"
        )

    assert response.status_code == 202
    message = Message.objects.get()
    assert (message.next_attempt_at, message.waiting, message.send_window) == (
        at("2026-12-06T08:00"),
        Waiting.QUIET_HOURS,
        "08:00-21:00",
    )


@pytest.mark.django_db
def test_a_single_send_without_quiet_hours_goes_at_once_at_any_hour(api):
    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T22:00")):
        api.post("/api/v1/messages/send/", {"phone": UK, "content": "Hi"}, format="json")

    assert Message.objects.get().next_attempt_at == at("2026-12-05T22:00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("quiet_hours", "message"),
    [
        ("8 to 9", "'8 to 9' is not a window of the day like \"08:00-21:00\"."),
        ("default", "This deployment sets no default quiet hours (SMS_QUIET_HOURS)."),
    ],
)
def test_a_send_with_quiet_hours_that_are_not_a_window_is_a_400_naming_the_field(api, quiet_hours, message):
    response = api.post(
        "/api/v1/messages/send/", {"phone": UK, "content": "Hi", "quiet_hours": quiet_hours}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"quiet_hours": [message]}
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_default_quiet_hours_are_the_deployments(api, settings):
    settings.SMS_QUIET_HOURS = "09:00-20:00"
    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T22:00")):
        api.post("/api/v1/messages/send/", {"phone": UK, "content": "Hi", "quiet_hours": "default"}, format="json")

    assert Message.objects.get().next_attempt_at == at("2026-12-06T09:00")


@pytest.mark.django_db
def test_a_single_send_to_a_number_never_inside_the_window_is_a_422(api):
    response = api.post(
        "/api/v1/messages/send/", {"phone": US_TOLL_FREE, "content": "Hi", "quiet_hours": "09:00-17:00"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quiet_hours_never_open"
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_message_claimed_after_its_window_closed_goes_back_until_it_opens(user, locmem_gateway):
    # Due (a retry's backoff ended, or a big campaign reached it late) but 23:00 in London.
    message = MessageFactory(owner=user, phone=UK, send_window="08:00-21:00", next_attempt_at=at("2026-12-05T22:00"))

    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-05T23:00")):
        report = dispatcher.dispatch(worker="test-worker", seconds=30)

    message.refresh_from_db()
    assert locmem_gateway.outbox == []
    assert report.claimed == 1
    assert (message.status, message.attempts, message.waiting) == ("QUEUED", 0, Waiting.QUIET_HOURS)
    assert message.next_attempt_at == at("2026-12-06T08:00")


@pytest.mark.django_db
def test_a_message_inside_its_window_is_sent_and_stops_waiting(user, locmem_gateway):
    message = MessageFactory(
        owner=user, phone=INDIA, send_window="08:00-21:00", waiting=Waiting.QUIET_HOURS,
        next_attempt_at=at("2026-12-06T02:30"),
    )  # fmt: skip

    with mock.patch("django.utils.timezone.now", return_value=at("2026-12-06T02:31")):
        dispatcher.dispatch(worker="test-worker", seconds=30)

    message.refresh_from_db()
    assert [m.phone for m in locmem_gateway.outbox] == [INDIA]
    assert (message.status, message.waiting) == ("SENT", "")
