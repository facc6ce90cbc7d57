"""A campaign's results as CSV: one row per message, streamed from the database in chunks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from campaigns.models import Campaign
from inboxerr.csv_stream import spreadsheet_safe, streamed_csv
from messaging.errors import explain
from messaging.models import Message

HEADER = ["phone", "name", "status", "parts", "sent_at", "delivered_at", "error"]
CHUNK = 2_000
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _phone(phone: str) -> str:
    # An E.164 number's "+" begins no formula, and an apostrophe before it would spoil the number.
    return phone if E164.fullmatch(phone) else spreadsheet_safe(phone)


def result_rows(campaign: Campaign) -> Iterator[list[Any]]:
    messages = (
        Message.objects.filter(campaign=campaign)
        .order_by("phone")  # the (campaign, phone) unique index: read in its order, no sort of a big campaign
        .values_list("phone", "contact__name", "status", "parts_count", "sent_at", "delivered_at", "error")
    )
    # A server-side cursor on PostgreSQL: memory stays flat however many messages the campaign has.
    for phone, name, status, parts, sent_at, delivered_at, error in messages.iterator(chunk_size=CHUNK):
        yield [_phone(phone), spreadsheet_safe(name), status, parts, _when(sent_at), _when(delivered_at),
               spreadsheet_safe(explain(error))]  # fmt: skip


def results_csv(campaign: Campaign) -> StreamingHttpResponse:
    filename = f"{slugify(campaign.name) or 'campaign'}-{campaign.pk}-results.csv"
    return streamed_csv(filename, HEADER, result_rows(campaign))
