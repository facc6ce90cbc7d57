"""What a reply asks of us: to stop, to start again, or for help. One rule, one word list.

People do not text a bare `STOP`: they write "Stop.", "STOP!", "Unsubscribe.", "opt out", "Opt-out",
"please stop texting me". The law (the US TCPA rules on revoking consent, and carriers' codes of conduct)
reads any reasonable way of saying it as an opt-out. So a reply is a keyword when, once its punctuation is
gone, it holds exactly one keyword and nothing else but words that make a short request of it ("please",
"me", "texting", "now", "thanks", ...). A sentence that only mentions one ("don't stop the deliveries",
"when does the sale end?", "I want to cancel my order") is not: it has a negation, or words of its own.
"""

from __future__ import annotations

import re
import unicodedata

from messaging.models import Keyword

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "cancel", "revoke", "optout"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
KEYWORDS = {**dict.fromkeys(STOP_WORDS, Keyword.STOP), **dict.fromkeys(START_WORDS, Keyword.START),
            **dict.fromkeys(HELP_WORDS, Keyword.HELP)}  # fmt: skip
# Words that may stand around a keyword in a short request, and change nothing of it.
FILLER = frozenset(
    {
        "please", "pls", "plz", "kindly", "now", "asap", "immediately", "right", "away", "thanks", "thank", "you",
        "thx", "ok", "okay", "yes", "just", "all", "it", "me", "my", "us", "our", "number", "this", "that",
        "these", "them", "from", "to", "of", "the", "a", "an", "and", "list", "lists", "mailing", "sending",
        "send", "texting", "text", "texts", "messaging", "message", "messages", "sms", "contacting", "contact",
        "calling", "subscription", "subscriptions", "want", "i", "would", "like", "hi", "hello", "again",
        "more", "any", "no", "wish", "remove", "take", "off", "out", "unsubscribe", "opt",
    }
)  # fmt: skip
# A reply with one of these says something else about a keyword ("don't stop", "never end").
NEGATIONS = frozenset({"don't", "dont", "do", "not", "never", "didn't", "didnt", "won't", "wont", "shouldn't", "why"})
# Longest reply read as a keyword, in words: past this it is a conversation, for a person to read.
MAX_WORDS = 8


def keyword_of(text: str) -> Keyword | None:
    """STOP, START or HELP when the reply clearly means one; None for anything else (an ordinary reply)."""
    words = _words(text)
    if not words or len(words) > MAX_WORDS or NEGATIONS.intersection(words):
        return None
    found = [word for word in words if word in KEYWORDS]
    if len(set(found)) != 1:
        return None  # none, or two different ones ("stop start"): not clear
    if any(word not in KEYWORDS and word not in FILLER for word in words):
        return None
    return KEYWORDS[found[0]]


def _words(text: str) -> list[str]:
    """Lower-case words, accents and punctuation gone; "opt out", "opt-out" and "opt me out" read as optout."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).replace("\u2019", "'")
    folded = re.sub(r"\bopt[\s\-_]*(?:me[\s\-_]+)?out\b", " optout ", folded)
    return re.findall(r"[a-z]+(?:'[a-z]+)?", folded)
