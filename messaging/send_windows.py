"""Quiet hours: a message goes out only while its recipient's local time is inside its send window.

A window is "HH:MM-HH:MM" of the recipient's own day ("08:00-21:00"; "21:00-02:00" runs past midnight;
"00:00-24:00" is any hour). The recipient's time zones come from the number (`phonenumbers`' time-zone data:
one for most numbers, several for a country or range that spans more, such as a Russian or an Australian
mobile); a message may go only when the window is open in every one of them. A number whose zones share no
such moment can never be sent within the window. A number with no known zone is read in TIME_ZONE.

The fan-out and single sends set a message's next_attempt_at to the window's next opening, so the dispatcher
never claims it before then; the dispatcher checks again at claim (a big campaign may reach a message after
its window closed) and puts it back until the next opening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import timezone as phone_timezones

NEVER = "quiet_hours_never_open"
_FORMAT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
DAY = 24 * 60


@dataclass(frozen=True)
class SendWindow:
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, up to 1440; before start when the window runs past midnight

    @property
    def always(self) -> bool:
        return self.start == 0 and self.end == DAY

    def contains(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def parse_window(text: str) -> SendWindow:
    """SendWindow for "08:00-21:00"; ValidationError naming the expected form otherwise."""
    match = _FORMAT.match(text.strip())
    if not match:
        raise ValidationError(f'{text!r} is not a window of the day like "08:00-21:00".', code="invalid_window")
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end > DAY or start == end:
        raise ValidationError(f"{text!r} is an empty window; give two different times.", code="invalid_window")
    return SendWindow(start, end)


def validate_window(text: str) -> None:
    """A model or form validator: empty, or a valid window."""
    if text:
        parse_window(text)


def effective_window(own: str) -> str:
    """A campaign's window, or the deployment's SMS_QUIET_HOURS when it sets none; "" when neither applies."""
    window = own or settings.SMS_QUIET_HOURS
    return "" if not window or parse_window(window).always else str(parse_window(window))


@lru_cache(maxsize=1 << 16)
def zones_of(phone: str) -> tuple[ZoneInfo, ...]:
    """The time zones a number (E.164) may be in; TIME_ZONE's when `phonenumbers` knows none."""
    try:
        names = phone_timezones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        names = (phone_timezones.UNKNOWN_TIMEZONE,)
    known = [name for name in names if name != phone_timezones.UNKNOWN_TIMEZONE]
    return tuple(_zone(name) for name in (known or [settings.TIME_ZONE]))


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def open_in_all(window: SendWindow, zones: tuple[ZoneInfo, ...], at: datetime) -> bool:
    return all(window.contains(at.astimezone(zone)) for zone in zones)


def next_opening(window: SendWindow, zones: tuple[ZoneInfo, ...], now: datetime) -> datetime | None:
    """`now` when the window is open in all `zones`; else the first moment it is, within three days; None when
    there is none (the zones are too far apart for the window)."""
    if open_in_all(window, zones, now):
        return now
    # Where the window is open in every zone, it opened last in one of them: the earliest such opening is the
    # first of the zones' own opening times at which all the others are open too.
    openings = []
    for zone in zones:
        local_day = now.astimezone(zone).date()
        for days in range(4):
            day = local_day + timedelta(days=days)
            opening = datetime.combine(day, time(window.start // 60, window.start % 60), tzinfo=zone)
            if opening > now:
                openings.append(opening)
    for opening in sorted(openings):
        if open_in_all(window, zones, opening):
            return opening
    return None


class WindowClock:
    """Each number's next opening under one window at one moment, computed once per set of zones: a batch of
    thousands of numbers has a handful of distinct zone sets."""

    def __init__(self, window: str, now: datetime):
        parsed = parse_window(window) if window else None
        self.window = None if parsed is None or parsed.always else parsed
        self.now = now
        self._openings: dict[tuple[ZoneInfo, ...], datetime | None] = {}

    def opening_for(self, phone: str) -> datetime | None:
        """When `phone` may get a message: now, a later moment, or None for never."""
        if self.window is None:
            return self.now
        zones = zones_of(phone)
        if zones not in self._openings:
            self._openings[zones] = next_opening(self.window, zones, self.now)
        return self._openings[zones]
