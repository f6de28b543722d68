"""Voice calls through Twilio's Calls API.

The call fetches its TwiML from ``{public_url}/webhooks/twilio/voice/{notification}`` (the page
read out inside a one-digit ``<Gather>``: 4 acknowledge, 5 escalate, 6 resolve, ``*`` repeat;
see ``paging.providers.twilio.calls``); progress comes back to ``message.callback_url``.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from functools import partial

from paging.outbox.channel import Outcome, Outgoing, SendResult
from paging.providers.twilio.client import TwilioApi, call_api

#: Seconds the phone rings before Twilio gives up with ``no-answer`` (voicemail often picks
#: up after 25-30 s; ringing less than that makes an unanswered call visible more often).
RING_SECONDS = 25
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
#: ``lookup`` reads the calls to the number newest first, back to the claim, at most this many.
LOOKUP_PAGE, LOOKUP_LIMIT = 20, 500
LOOKUP_SLACK = timedelta(seconds=5)  # clock skew; the call is made after the claim


def voice_url(public_url: str, notification_id: str) -> str:
    return f"{public_url}/webhooks/twilio/voice/{notification_id}"


class TwilioVoiceChannel:
    def __init__(self, api: TwilioApi, public_url: str) -> None:
        self.name = "voice"
        self.api = api
        self.public_url = public_url

    def send(self, message: Outgoing) -> SendResult:
        create = partial(
            self.api.client().calls.create,
            to=message.address,
            from_=self.api.from_number,
            url=voice_url(self.public_url, message.notification_id),
            method="POST",
            status_callback=message.callback_url,
            status_callback_method="POST",
            status_callback_event=STATUS_EVENTS,
            timeout=RING_SECONDS,
        )
        created, failed = call_api(create)
        if failed is not None:
            return failed
        return SendResult(Outcome.sent, provider_id=str(created.sid))

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """A call from our number to this one created since ``since`` and not ``known`` to be
        another page's is taken to be this one.

        (The Calls API cannot tell which page a call carried; a number gets one call at a
        time, and the calls of other pages are ``known``.)
        """
        calls = self.api.client().calls.stream(
            to=message.address, from_=self.api.from_number, page_size=LOOKUP_PAGE
        )
        older = 0
        for call in itertools.islice(calls, LOOKUP_LIMIT):
            created = call.date_created
            if not isinstance(created, datetime):
                continue
            if created < since - LOOKUP_SLACK:
                older += 1
                if older >= LOOKUP_PAGE:
                    break  # newest first: a page of older ones, the rest are older still
                continue
            older = 0
            if str(call.sid) not in known:
                return SendResult(Outcome.sent, provider_id=str(call.sid))
        return None
