"""What kind of line a number is on (mobile, fixed line, toll-free, ...), as phonenumbers reads it from the
number alone: no lookup, so a ported number keeps the type of the range it was issued from."""

from __future__ import annotations

from django.db import models
from phonenumbers import PhoneNumberType


class LineType(models.TextChoices):
    MOBILE = "mobile"
    FIXED_LINE = "fixed_line", "Fixed line"
    TOLL_FREE = "toll_free", "Toll-free"
    PREMIUM_RATE = "premium_rate", "Premium rate"
    SHARED_COST = "shared_cost", "Shared cost"
    VOIP = "voip", "VoIP"
    PERSONAL_NUMBER = "personal_number", "Personal number"
    PAGER = "pager"
    UAN = "uan", "UAN (universal access number)"
    VOICEMAIL = "voicemail"
    # Contacts imported before line types were recorded; a number valid today is never unknown.
    UNKNOWN = "unknown", "Not classified"


# Plain strings, not enum members: they cross from the parser processes to the writer by the thousand.
FROM_PHONENUMBERS: dict[int, str] = {
    PhoneNumberType.MOBILE: LineType.MOBILE.value,
    # Most of North America: the number alone cannot tell; these are overwhelmingly mobiles that take SMS.
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.MOBILE.value,
    PhoneNumberType.FIXED_LINE: LineType.FIXED_LINE.value,
    PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE.value,
    PhoneNumberType.PREMIUM_RATE: LineType.PREMIUM_RATE.value,
    PhoneNumberType.SHARED_COST: LineType.SHARED_COST.value,
    PhoneNumberType.VOIP: LineType.VOIP.value,
    PhoneNumberType.PERSONAL_NUMBER: LineType.PERSONAL_NUMBER.value,
    PhoneNumberType.PAGER: LineType.PAGER.value,
    PhoneNumberType.UAN: LineType.UAN.value,
    PhoneNumberType.VOICEMAIL: LineType.VOICEMAIL.value,
    PhoneNumberType.UNKNOWN: LineType.UNKNOWN.value,
}

# What a campaign sends to unless told to include every line: mobiles, and contacts never classified (imported
# before line types were recorded), which campaigns went on sending to as they always had.
TEXTABLE = (LineType.MOBILE.value, LineType.UNKNOWN.value)
