"""Gateway error codes in words: the android gateway passes on Android's SmsManager result, Twilio its own
numbered codes. A message keeps the gateway's text as it came (support needs it); pages show it explained."""

from __future__ import annotations

import re

# android.telephony.SmsManager results, as the SMS Gateway for Android reports a failed send.
ANDROID = {
    "RESULT_ERROR_GENERIC_FAILURE": "The phone could not send it (a generic failure: often no credit, "
    "a blocked SIM or a number the network refused).",
    "RESULT_ERROR_RADIO_OFF": "The gateway phone's radio was off (airplane mode).",
    "RESULT_ERROR_NULL_PDU": "The phone could not encode the message.",
    "RESULT_ERROR_NO_SERVICE": "The gateway phone had no mobile service.",
    "RESULT_ERROR_LIMIT_EXCEEDED": "Android's limit on messages sent per hour was reached on the gateway phone.",
    "RESULT_ERROR_FDN_CHECK_FAILURE": "The gateway phone's fixed-dialling list does not allow this number.",
    "RESULT_ERROR_SHORT_CODE_NOT_ALLOWED": "The gateway phone refused to send to a short code.",
    "RESULT_ERROR_SHORT_CODE_NEVER_ALLOWED": "The gateway phone never sends to short codes.",
    "RESULT_RADIO_NOT_AVAILABLE": "The gateway phone's radio was not available.",
    "RESULT_NETWORK_REJECT": "The mobile network rejected the message.",
    "RESULT_NETWORK_ERROR": "A mobile network error.",
    "RESULT_INVALID_SMS_FORMAT": "The network found the message badly formed.",
    "RESULT_INVALID_ARGUMENTS": "The phone found the number or text invalid.",
    "RESULT_INVALID_SMSC_ADDRESS": "The gateway phone's message centre (SMSC) number is wrong.",
    "RESULT_NO_MEMORY": "The gateway phone ran out of memory.",
    "RESULT_MODEM_ERROR": "The gateway phone's modem failed.",
    "RESULT_SYSTEM_ERROR": "The gateway phone's system failed.",
    "RESULT_ENCODING_ERROR": "The phone could not encode the message.",
    "RESULT_CANCELLED": "The send was cancelled on the gateway phone.",
    "RESULT_OPERATION_NOT_ALLOWED": "The gateway phone does not allow sending SMS (is it the default SMS app?).",
    "RESULT_NO_DEFAULT_SMS_APP": "The gateway app is not the phone's default SMS app.",
    "RESULT_SMS_BLOCKED_DURING_EMERGENCY": "Sending was blocked during an emergency call.",
    "RESULT_SMS_SEND_RETRY_FAILED": "The phone's own retries failed.",
}

# Twilio error codes seen on messages (https://www.twilio.com/docs/api/errors).
TWILIO = {
    "21211": "Not a valid phone number.",
    "21408": "The account may not send to this country.",
    "21610": "The recipient has replied STOP to this sender.",
    "21612": "The number cannot receive SMS from this sender.",
    "21614": "Not a mobile number.",
    "30001": "Twilio's queue for the account overflowed.",
    "30002": "The Twilio account is suspended.",
    "30003": "Unreachable: the phone is off or out of coverage.",
    "30004": "Blocked: the recipient or their carrier blocks messages from this sender.",
    "30005": "Unknown number: it does not exist or is no longer in service.",
    "30006": "A landline, or a carrier that cannot receive SMS.",
    "30007": "Filtered by the carrier as spam or against its rules.",
    "30008": "An unknown error from the carrier.",
    "30009": "A part of the message went missing.",
    "30010": "The price was above the maximum set for the message.",
    "30034": "Sent from a US number not registered for A2P 10DLC.",
}

_ANDROID_CODE = re.compile(r"\bRESULT_[A-Z_]+\b")
_TWILIO_CODE = re.compile(r"^\s*(\d{5})\b")


def explain(error: str) -> str:
    """The error in words, with the gateway's code after it; anything unknown as it came."""
    if (match := _ANDROID_CODE.search(error)) and (words := ANDROID.get(match.group())):
        return f"{words} ({match.group()})"
    if (match := _TWILIO_CODE.match(error)) and (words := TWILIO.get(match.group(1))):
        return f"{words} (Twilio {match.group(1)})"
    return error
