"""TwiML documents for voice pages (pure; built with the twilio SDK).

Call flow::

    page_twiml(text, action_url, attempt=0)
      <Gather numDigits=1 action=action_url method=POST timeout=6>
        <Say>page text</Say> <Say>Press 4 to acknowledge, ...</Say>
      </Gather>
      no input, attempt 0 -> <Redirect>action_url?attempt=1</Redirect>
      no input, attempt 1 -> <Say>Goodbye.</Say> <Hangup/>

The page text is spoken *inside* the Gather so a responder who already knows
the drill can press a key without listening to the whole page.  A Redirect
reaches ``action_url`` without a ``Digits`` parameter; the handler then calls
:func:`digit_result_twiml` with ``digits=None`` which repeats the page at the
attempt given in the query string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from twilio.twiml.voice_response import Gather, Hangup, Redirect, Say, VoiceResponse

from escalation.rules import Action

__all__ = [
    "ATTEMPT_PARAM",
    "BUNDLE_READ_OUT",
    "MENU_TEXT",
    "DigitChoice",
    "SpokenIncident",
    "bundle_menu",
    "bundle_speech",
    "confirmation_twiml",
    "digit_result_twiml",
    "invalid_choice_twiml",
    "message_twiml",
    "page_speech",
    "page_twiml",
    "parse_digit",
    "with_attempt",
]

MENU_TEXT = "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat."
GOODBYE = "Goodbye."
ATTEMPT_PARAM = "attempt"
DEFAULT_TIMEOUT = 6  # seconds of silence before the Gather gives up
#: Incidents a bundled call reads out one by one; the rest are counted ("and 7 more").
BUNDLE_READ_OUT = 5

DigitChoice = Action | Literal["repeat"] | None

_DIGITS: dict[str, Action | Literal["repeat"]] = {
    "4": Action.acknowledge,
    "5": Action.escalate,
    "6": Action.resolve,
    "*": "repeat",
}


def parse_digit(digits: str) -> DigitChoice:
    """4 ack, 5 escalate, 6 resolve, ``*`` repeat; anything else None.

    Surrounding whitespace and a trailing ``#`` are ignored.
    """
    return _DIGITS.get(digits.strip().rstrip("#").strip())


def with_attempt(url: str, attempt: int) -> str:
    """``url`` with its ``attempt`` query parameter set (others kept)."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != ATTEMPT_PARAM
    ]
    query.append((ATTEMPT_PARAM, str(attempt)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_speech(
    number: int, severity: str, service: str, title: str, app: str = "Watchbill"
) -> str:
    """Spoken page: ``This is Watchbill. Critical incident 42 on Checkout API. <title>.``"""
    return f"This is {app}. " + _incident_phrase(SpokenIncident(number, severity, service, title))


@dataclass(frozen=True)
class SpokenIncident:
    number: int
    severity: str
    service: str
    title: str


def _incident_phrase(incident: SpokenIncident) -> str:
    on = f" on {incident.service.strip()}" if incident.service.strip() else ""
    text = f"{incident.severity.strip().capitalize()} incident {incident.number}{on}."
    title = " ".join(incident.title.split())
    if title:
        text += f" {title}" + ("" if title[-1] in ".!?" else ".")
    return text


def bundle_speech(incidents: Sequence[SpokenIncident], app: str = "Watchbill") -> str:
    """A bundled call (an alert storm): how many, then the first few one by one.

    ``This is Watchbill. 3 open incidents. Critical incident 42 on Checkout. Disk full. ...``
    Beyond :data:`BUNDLE_READ_OUT` the rest are counted, not read: a call that reads forty
    titles is one nobody listens to the end of.
    """
    count = len(incidents)
    noun = "open incident" if count == 1 else "open incidents"
    parts = [f"This is {app}. {count} {noun}."]
    parts += [_incident_phrase(i) for i in incidents[:BUNDLE_READ_OUT]]
    if count > BUNDLE_READ_OUT:
        parts.append(f"And {count - BUNDLE_READ_OUT} more.")
    return " ".join(parts)


def bundle_menu(count: int) -> str:
    """The keys of a bundled call: each acts on every incident the call is about."""
    return (
        f"Press 4 to acknowledge all {count}, 5 to escalate all {count}, "
        f"6 to resolve all {count}, star to repeat."
    )


def _gather(action_url: str, timeout: int, *spoken: str) -> Gather:
    gather = Gather(num_digits=1, action=action_url, method="POST", timeout=timeout)
    for text in spoken:
        gather.append(Say(text))
    return gather


def _on_no_input(response: VoiceResponse, action_url: str, attempt: int) -> None:
    if attempt == 0:
        response.append(Redirect(with_attempt(action_url, 1), method="POST"))
    else:
        response.append(Say(GOODBYE))
        response.append(Hangup())


def page_twiml(
    text: str,
    action_url: str,
    attempt: int,
    timeout: int = DEFAULT_TIMEOUT,
    menu: str = MENU_TEXT,
) -> str:
    """The page (and menu) inside a one-digit Gather; one repeat on silence."""
    response = VoiceResponse()
    response.append(_gather(action_url, timeout, text, menu))
    _on_no_input(response, action_url, attempt)
    return str(response)


def invalid_choice_twiml(
    action_url: str, attempt: int, timeout: int = DEFAULT_TIMEOUT, menu: str = MENU_TEXT
) -> str:
    """Unknown key: say so and offer the menu again (no page text)."""
    response = VoiceResponse()
    response.append(_gather(action_url, timeout, "Sorry, that is not a valid choice.", menu))
    _on_no_input(response, action_url, attempt)
    return str(response)


def message_twiml(text: str) -> str:
    """Say ``text`` then hang up (e.g. "Incident 42 is already resolved.")."""
    response = VoiceResponse()
    response.append(Say(f"{text.strip()} {GOODBYE}".strip()))
    response.append(Hangup())
    return str(response)


def confirmation_twiml(action: Action, incident_number: int) -> str:
    """``Acknowledged incident 42. Goodbye.`` then hang up."""
    return message_twiml(f"{action.past} incident {incident_number}.")


def digit_result_twiml(
    digits: str | None,
    *,
    subject: str,
    page_text: str,
    action_url: str,
    attempt: int = 0,
    timeout: int = DEFAULT_TIMEOUT,
    menu: str = MENU_TEXT,
) -> str:
    """Response for a request to ``action_url``.

    * ``digits`` None/empty (the no-input Redirect): the page again at ``attempt``.
    * ``*``: the page again (attempt 0: pressing a key shows someone is there).
    * 4/5/6: confirmation for that action (``Acknowledged <subject>.``, e.g. subject
      ``incident 42`` or ``3 incidents``).  The caller must have applied the action; if it
      could not (already resolved ...) use :func:`message_twiml`.
    * other keys: "not a valid choice" plus the menu.
    """
    if not digits or not digits.strip():
        return page_twiml(page_text, action_url, attempt, timeout, menu)
    choice = parse_digit(digits)
    if choice == "repeat":
        return page_twiml(page_text, action_url, 0, timeout, menu)
    if isinstance(choice, Action):
        return message_twiml(f"{choice.past} {subject}.")
    return invalid_choice_twiml(action_url, 0, timeout, menu)
