"""SMS through Twilio's Messages API.

A page is one message of at most two segments ending with its reply codes; a bundle lists each
incident with its own codes and a code for all of them, in as few texts of up to ten segments
as it takes (none is dropped).
Delivery receipts come back to ``message.callback_url`` (see ``paging.providers.twilio.status``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from paging.outbox.channel import IncidentView, Outcome, Outgoing, SendResult
from paging.providers.twilio.client import TwilioApi, call_api
from paging.providers.twilio.sms_text import PageText, compose_bundle, compose_page

PAGE_SEGMENTS = 2
#: A bundle is one long message (a phone shows a concatenated SMS as one), up to Twilio's
#: 1,600 characters: a storm buzzes once per message, not once per text.
BUNDLE_SEGMENTS = 10
#: ``lookup`` reads the messages to the number newest first, page by page, back to the claim
#: (a storm may have sent a number hundreds since), at most this many.
LOOKUP_PAGE, LOOKUP_LIMIT = 50, 2000
#: How far before the claim a message found by ``lookup`` may have been created (clock
#: differences between us and Twilio; its times have one-second resolution).
LOOKUP_SLACK = timedelta(seconds=30)


def page_text(view: IncidentView) -> PageText:
    return PageText(
        incident_number=view.number,
        severity=view.severity,
        service=view.service,
        title=view.title,
        link=view.url,
        reply_code=view.reply_code,
    )


def render(message: Outgoing) -> list[str]:
    """The SMS bodies for ``message`` (one, except for bundles too long for one message)."""
    if message.text is not None or not message.incidents:
        return [message.text or ""]
    items = [page_text(view) for view in message.incidents]
    texts: list[str] = []
    while items:
        if len(items) == 1:
            texts.append(compose_page(items[0], max_segments=PAGE_SEGMENTS))
            break
        bundle = compose_bundle(
            items, link=None, max_segments=BUNDLE_SEGMENTS, all_code=message.bundle_code
        )
        texts.append(bundle.text)
        items = items[len(bundle.included) :]
    return texts


class TwilioSmsChannel:
    def __init__(
        self, api: TwilioApi, *, on_opted_out: Callable[[str], None] | None = None
    ) -> None:
        self.name = "sms"
        self.api = api
        self.on_opted_out = on_opted_out

    def send(self, message: Outgoing) -> SendResult:
        client = self.api.client()
        opted_out = partial(self.on_opted_out, message.address) if self.on_opted_out else None
        first: str | None = None
        for body in render(message):
            create = partial(
                client.messages.create,
                to=message.address,
                from_=self.api.from_number,
                body=body,
                status_callback=message.callback_url,
            )
            created, failed = call_api(create, opted_out)
            if failed is not None:
                # A bundle cut short is sent again in full: a duplicate beats a lost page.
                return failed
            first = first or str(created.sid)
        return SendResult(Outcome.sent, provider_id=first)

    def lookup(
        self, message: Outgoing, since: datetime, known: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """Sent already when every body of the message went to the number since ``since``
        (messages ``known`` to be others' left out: a repeat of a page has the same text)."""
        found = self.api.client().messages.stream(
            to=message.address, from_=self.api.from_number, page_size=LOOKUP_PAGE
        )
        sids: dict[str, str] = {}
        older = 0
        for record in itertools.islice(found, LOOKUP_LIMIT):
            created = record.date_created
            if isinstance(created, datetime) and created < since - LOOKUP_SLACK:
                older += 1
                if older >= LOOKUP_PAGE:
                    break  # newest first: a page of older ones, the rest are older still
                continue
            older = 0
            if str(record.sid) not in known:
                sids.setdefault(str(record.body), str(record.sid))
        bodies = render(message)
        if all(body in sids for body in bodies):
            return SendResult(Outcome.sent, provider_id=sids[bodies[0]])
        return None
