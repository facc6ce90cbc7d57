"""Gateway error codes are explained in words; what we do not know is shown as it came."""

import pytest

from messaging.errors import explain


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("RESULT_ERROR_RADIO_OFF", "The gateway phone's radio was off (airplane mode). (RESULT_ERROR_RADIO_OFF)"),
        ("Send failed: RESULT_ERROR_NO_SERVICE", "The gateway phone had no mobile service. (RESULT_ERROR_NO_SERVICE)"),
        ("30006", "A landline, or a carrier that cannot receive SMS. (Twilio 30006)"),
        ("21610", "The recipient has replied STOP to this sender. (Twilio 21610)"),
        ("99999", "99999"),
        ("RESULT_SOMETHING_NEW", "RESULT_SOMETHING_NEW"),
        ("Gave up after 5 attempts: timeout", "Gave up after 5 attempts: timeout"),
        ("", ""),
    ],
)
def test_explain(error, words):
    assert explain(error) == words
