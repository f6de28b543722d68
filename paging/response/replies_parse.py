"""Parsing of inbound SMS replies (pure: no I/O, no clock reads).

Each responder gets, per phone number and open incident, a small positive
*reply code* N.  A page ends with ``Reply 1a to ack, 1r to resolve, 1e to
escalate``; the responder answers ``1a`` (acknowledge), ``1r`` / ``1c``
(resolve) or ``1e`` (escalate).

Accepted forms (case-insensitive; surrounding whitespace, quotes and trailing
``. ! ? , ; :`` are ignored; internal whitespace may be any amount):

* code then word:  ``1a``, ``1 a``, ``1 ack``, ``12resolve``
* word then code:  ``ack 42``, ``ack42``, ``esc 2``, and also ``a1`` / ``r 3``
  (a letter followed by a number can only mean "this action on that code",
  so it is accepted too)
* word alone:      ``ack``, ``a``, ``r``, ``c``, ``close``, ``e`` ...
  -> ``code=None`` meaning "the newest page sent to this number"

Deliberately *not* accepted (-> ``UNKNOWN``): anything with extra words
(``1a thanks``), a ``#`` (``ack #42`` most likely names the *incident*
number, not the reply code, so acting on it could hit the wrong incident),
code ``0``, codes longer than :data:`MAX_CODE_DIGITS` digits, and non-ASCII
digits.

Opt-out/in/help keywords follow Twilio's single-word rule: the message must be
only the keyword (after the same trimming).  Besides the classic list the
keywords Twilio now also honours (``REVOKE``, ``OPTOUT``) are treated as
opt-out so our records never disagree with Twilio's block list.  ``CANCEL``
is opt-out even though the single letter ``c`` means resolve.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from escalation.rules import Action

__all__ = [
    "HELP_KEYWORDS",
    "LETTERS",
    "MAX_CODE_DIGITS",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "Reply",
    "ReplyKind",
    "confirmation_line",
    "format_all_codes",
    "format_codes",
    "parse_reply",
    "reply_code",
    "should_answer_unknown",
]


class ReplyKind(Enum):
    ACTION = "action"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    UNKNOWN = "unknown"


#: The letter of each action in reply codes (``1a``, ``1r``, ``1e``).
LETTERS = {Action.acknowledge: "a", Action.resolve: "r", Action.escalate: "e"}


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    action: Action | None = None
    code: int | None = None  # None: the newest page sent to this number


OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
OPT_IN_KEYWORDS = frozenset({"start", "yes", "unstop"})
HELP_KEYWORDS = frozenset({"help", "info"})

_ACTION_WORDS: dict[str, Action] = {
    "a": Action.acknowledge,
    "ack": Action.acknowledge,
    "acked": Action.acknowledge,
    "acknowledge": Action.acknowledge,
    "acknowledged": Action.acknowledge,
    "r": Action.resolve,
    "res": Action.resolve,
    "resolve": Action.resolve,
    "resolved": Action.resolve,
    "c": Action.resolve,
    "close": Action.resolve,
    "closed": Action.resolve,
    "e": Action.escalate,
    "esc": Action.escalate,
    "escalate": Action.escalate,
}

MAX_CODE_DIGITS = 6

_UNKNOWN = Reply(ReplyKind.UNKNOWN)
# Quotes (ASCII, typographic, backtick) that phones and people wrap replies in.
_QUOTES = "'\"`‘’‚‛“”„‟«»"
_TRAILING = ".!?,;:"
_CODE_FIRST = re.compile(rf"([0-9]{{1,{MAX_CODE_DIGITS}}})\s*([a-z]+)")
_WORD_FIRST = re.compile(rf"([a-z]+)\s*([0-9]{{1,{MAX_CODE_DIGITS}}})")
_WORD = re.compile(r"[a-z]+")


def _normalise(body: str) -> str:
    text = " ".join(body.split()).lower()
    previous = None
    while text != previous:
        previous = text
        text = text.strip().strip(_QUOTES).rstrip(_TRAILING)
    return text


def _action_reply(word: str, digits: str | None) -> Reply:
    action = _ACTION_WORDS.get(word)
    if action is None:
        return _UNKNOWN
    if digits is None:
        return Reply(ReplyKind.ACTION, action, None)
    code = int(digits)
    if code < 1:
        return _UNKNOWN
    return Reply(ReplyKind.ACTION, action, code)


def parse_reply(body: str) -> Reply:
    """Classify an inbound SMS body. Never raises."""
    text = _normalise(body)
    if not text:
        return _UNKNOWN
    if text in OPT_OUT_KEYWORDS:
        return Reply(ReplyKind.OPT_OUT)
    if text in OPT_IN_KEYWORDS:
        return Reply(ReplyKind.OPT_IN)
    if text in HELP_KEYWORDS:
        return Reply(ReplyKind.HELP)
    if _WORD.fullmatch(text):
        return _action_reply(text, None)
    match = _CODE_FIRST.fullmatch(text)
    if match:
        return _action_reply(match.group(2), match.group(1))
    match = _WORD_FIRST.fullmatch(text)
    if match:
        return _action_reply(match.group(1), match.group(2))
    return _UNKNOWN


def _check_code(code: int) -> None:
    if code < 1 or len(str(code)) > MAX_CODE_DIGITS:
        raise ValueError(f"reply code must be 1..{10**MAX_CODE_DIGITS - 1}, got {code}")


def reply_code(code: int, action: Action) -> str:
    """The token a responder sends, e.g. ``reply_code(1, Action.acknowledge) == "1a"``."""
    _check_code(code)
    return f"{code}{LETTERS[action]}"


def format_codes(code: int) -> str:
    """``Reply 1a to ack, 1r to resolve, 1e to escalate`` for ``code=1``."""
    _check_code(code)
    return (
        f"Reply {reply_code(code, Action.acknowledge)} to ack, "
        f"{reply_code(code, Action.resolve)} to resolve, "
        f"{reply_code(code, Action.escalate)} to escalate"
    )


def format_all_codes(code: int) -> str:
    """``Reply 6a to ack all, 6r to resolve all`` for a bundle's ``code=6``."""
    _check_code(code)
    return (
        f"Reply {reply_code(code, Action.acknowledge)} to ack all, "
        f"{reply_code(code, Action.resolve)} to resolve all"
    )


def confirmation_line(action: Action, incident_number: int) -> str:
    """``Acknowledged #42`` -- the head of every confirmation (SMS, web, voice)."""
    return f"{action.past} #{incident_number}"


UNKNOWN_REPLY_LIMIT = 2
UNKNOWN_REPLY_WINDOW = timedelta(minutes=10)


def should_answer_unknown(
    recent_unknown_reply_times: Sequence[datetime],
    now: datetime,
    *,
    limit: int = UNKNOWN_REPLY_LIMIT,
    window: timedelta = UNKNOWN_REPLY_WINDOW,
) -> bool:
    """Whether to answer another unrecognised message from one number.

    ``recent_unknown_reply_times`` are the times we *answered* unrecognised
    messages from that number.  At most ``limit`` answers per ``window``
    (interval ``(now - window, now]``), so two auto-responders cannot loop.
    Times after ``now`` (clock skew) are counted, erring towards silence.
    All datetimes must be of the same kind (all aware or all naive).
    """
    cutoff = now - window
    answered = sum(1 for t in recent_unknown_reply_times if t > cutoff)
    return answered < limit
