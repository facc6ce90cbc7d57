"""Where a user's messages may go: the countries the deployment and staff allow, and no premium-rate or
shared-cost number unless staff allow it for that user. One check, asked by single sends, batches, test sends
and campaigns' fan-outs alike.

SMS_ALLOWED_COUNTRIES (empty: every country) bounds everyone; a user's own allowlist (SendingLimits, set by
staff) narrows it further. A number's country is the region `phonenumbers` reads from it (a +1 number's
area code says US or CA).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings

from imports.line_types import LineType
from imports.phones import line_type_of
from messaging.models import SendingLimits

COUNTRY_NOT_ALLOWED = "country_not_allowed"
PREMIUM_RATE_NOT_ALLOWED = "premium_rate_not_allowed"
# Numbers that cost the sender more than a message, and that SMS pumping fraud sends to.
COSTLY = frozenset({LineType.PREMIUM_RATE.value, LineType.SHARED_COST.value})


@dataclass(frozen=True)
class Destinations:
    """One user's rule, read once for a send, a batch or a fan-out."""

    countries: frozenset[str] | None  # None: any country
    premium_rate: bool

    def refusal(self, phone: str, line_type: str = "") -> str | None:
        """None when `phone` (E.164) may be messaged; else why not (COUNTRY_NOT_ALLOWED, PREMIUM_RATE_NOT_ALLOWED).

        line_type: the number's, when the caller knows it (a contact's); read from the number otherwise.
        """
        if self.countries is not None and country_of(phone) not in self.countries:
            return COUNTRY_NOT_ALLOWED
        if not self.premium_rate and (line_type or line_type_of(phone)) in COSTLY:
            return PREMIUM_RATE_NOT_ALLOWED
        return None

    def explain(self, phone: str, reason: str) -> str:
        """The refusal in words, for a person."""
        if reason == COUNTRY_NOT_ALLOWED:
            allowed = ", ".join(sorted(self.countries or ())) or "none"
            return f"{phone} is a number in {country_of(phone) or 'no known country'}; you may send to {allowed}."
        return f"{phone} is a premium-rate or shared-cost number; ask staff to allow them for you."


def destinations_for(owner_id: int) -> Destinations:
    return destinations_from(SendingLimits.objects.filter(owner_id=owner_id).first())


def destinations_from(limits: SendingLimits | None) -> Destinations:
    """The rule of a user whose limits (None: none set) the caller has read already."""
    return _rule(frozenset(code.upper() for code in settings.SMS_ALLOWED_COUNTRIES), limits)


def _rule(deployment: frozenset[str], limits: SendingLimits | None) -> Destinations:
    own = frozenset(code.upper() for code in limits.allowed_countries) if limits else frozenset()
    if deployment and own:
        countries: frozenset[str] | None = deployment & own
    else:
        countries = (deployment or own) or None
    return Destinations(countries=countries, premium_rate=bool(limits and limits.allow_premium_rate))


def country_of(phone: str) -> str:
    """GB for +447400123456; "" for a number no region claims."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
