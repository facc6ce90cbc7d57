"""The keyword rule, read against replies people really send."""

from __future__ import annotations

import pytest

from messaging.keywords import keyword_of
from messaging.models import Keyword

OPT_OUTS = [
    "STOP", "stop", "Stop.", "STOP!", "STOP!!!", "  stop  ", "Stop please", "please stop", "Please STOP.",
    "please stop texting me", "Stop texting me!", "stop sending me messages", "STOP ALL", "STOPALL", "stop now",
    "Unsubscribe.", "unsubscribe me", "Unsubscribe me please", "opt out", "Opt-out", "OPT OUT!", "optout",
    "opt me out", "Opt me out please", "REVOKE", "revoke", "END", "end.", "QUIT", "quit!", "CANCEL", "cancel",
    "cancel my subscription", "Stop 🙏", "stop, thanks", "Stop\nthanks", "remove me and stop",
    "Stop.  Thank you.", "stop messaging me",
    "\uff33\uff34\uff2f\uff30",  # STOP in full-width letters, as some phone keyboards type it
]  # fmt: skip
NOT_OPT_OUTS = [
    "don't stop the deliveries", "Don't stop!", "do not stop", "When does the sale end?", "I want to cancel my order",
    "cancel my order ORD-100221", "Is my parcel coming?", "STOPPED", "stopwatch", "Stop by the store at 5",
    "stop start", "my parcel ORD-100221 hasn't arrived", "Thanks!", "", "   ", "I will never stop loving this shop",
    "Can you stop the delivery to my old address and send it to the new one instead please",
    "Why did you stop?", "help me with my order", "Where is the end of the queue",
]  # fmt: skip


@pytest.mark.parametrize("text", OPT_OUTS)
def test_a_reply_that_clearly_means_stop_is_an_opt_out(text):
    assert keyword_of(text) == Keyword.STOP


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_a_reply_that_only_mentions_a_keyword_is_not_one(text):
    assert keyword_of(text) != Keyword.STOP


@pytest.mark.parametrize("text", ["START", "start", "Start again", "UNSTOP", "unstop please", "Start.", "start!"])
def test_start_and_unstop_mean_start(text):
    assert keyword_of(text) == Keyword.START


@pytest.mark.parametrize("text", ["HELP", "help", "Help?", "INFO", "info please", "help!"])
def test_help_and_info_mean_help(text):
    assert keyword_of(text) == Keyword.HELP


@pytest.mark.parametrize("text", ["help me with my order", "I need help, my parcel is late", "more info on ORD-1?"])
def test_a_question_that_mentions_help_is_for_a_person(text):
    assert keyword_of(text) is None
