"""Alert storms end to end: a storm of 20 is released oldest first, one message per bundle
interval once the first burst is spent; the bundle's own code acknowledges every incident it
lists; a bare ``ack`` acts on the newest message; calls to a number never overlap."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from paging.outbox.models import Notification
from people.models import ContactType as CT
from store.db import Database
from tests.factories import Factory
from tests.fakes.twilio_fake import MessageRecord, TwilioFake
from tests.live_service import Live, Mailbox, answer_text, serve
from tests.waiting import wait_until

ADA = "+12015550101"
BURST, WINDOW, INTERVAL = 3, 3.0, 2.0


@pytest.fixture
def slow_twilio() -> Iterator[TwilioFake]:
    """Calls that take a while (ringing, the page read out), as on a real phone."""
    with TwilioFake(step_delay=0.2) as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
def storm(
    database_url: str,
    database: Database,
    factory: Factory,
    slow_twilio: TwilioFake,
    mailbox: Mailbox,
) -> Iterator[Live]:
    yield from serve(
        database_url,
        database,
        factory,
        slow_twilio,
        mailbox,
        page_burst=BURST,
        page_burst_window_seconds=WINDOW,
        page_bundle_interval_seconds=INTERVAL,
    )


def _numbers(body: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)", body)]


def _messages(live: Live, incidents: int) -> list[MessageRecord]:
    """The texts to Ada once every incident is in one of them, oldest first."""

    def all_out() -> list[MessageRecord] | None:
        found = sorted(live.twilio.messages_to(ADA), key=lambda m: m.date_created)
        listed = [n for m in found for n in _numbers(m.body)]
        return found if len(set(listed)) >= incidents else None

    messages = wait_until(all_out, timeout=30)
    assert messages is not None
    return messages


def _carriers(live: Live, user_id: str) -> list[Notification]:
    rows = [r for r in live.notifications(user_id=user_id) if r.bundled_into is None]
    return sorted(rows, key=lambda r: r.claimed_at or r.created_at)


def test_a_storm_of_20_goes_oldest_first_one_message_per_interval_and_ack_all_acts_on_all(
    storm: Live,
) -> None:
    ada = storm.responder((CT.sms, ADA, 0))
    service = storm.service([(600, [ada.id])], first_number=1)
    numbers: dict[int, str] = {}
    for n in range(20):
        incident = storm.trigger(service, title=f"Disk {n + 1} full")
        numbers[incident["number"]] = incident["id"]
        time.sleep(0.25)
    messages = _messages(storm, 20)

    # Every incident in exactly one text; oldest first, within and across texts.
    listed = [_numbers(m.body) for m in messages]
    flat = [n for group in listed for n in group]
    assert sorted(flat) == list(range(1, 21)) and flat == sorted(flat)
    assert len(messages) < 12
    bundles = [m for m in messages if len(_numbers(m.body)) > 1]
    assert bundles and all("to ack all," in m.body for m in bundles)

    # At most three in any window; after the first storm message, one per interval.
    carriers = _carriers(storm, ada.id)
    assert len(carriers) == len(messages)
    times = [c.claimed_at for c in carriers if c.claimed_at is not None]
    for t in times:
        assert sum(1 for u in times if t - timedelta(seconds=WINDOW) < u <= t) <= BURST
    first_storm = next(i for i, c in enumerate(carriers) if c.throttle == "storm")
    for before, after in itertools.pairwise(carriers[first_storm:]):
        assert before.claimed_at is not None and after.claimed_at is not None
        assert after.claimed_at - before.claimed_at >= timedelta(seconds=INTERVAL)

    # "<code>a" of the first bundle acknowledges every incident it lists, and only those.
    first = bundles[0]
    code = re.search(r"Reply (\d+)a to ack all", first.body)
    assert code is not None
    answer = answer_text(storm.reply(ADA, f"{code.group(1)}a")[1])
    in_first = _numbers(first.body)
    assert (
        answer
        == f"Acknowledged {len(in_first)} incidents: " + " ".join(f"#{n}" for n in in_first) + "."
    )
    status = {n: storm.status(i) for n, i in numbers.items()}
    assert {n for n, s in status.items() if s == "acknowledged"} == set(in_first)

    # A bare "ack" acts on the incidents of the newest message (a bundle: all of them).
    newest = _numbers(messages[-1].body)
    storm.reply(ADA, "ack")
    status = {n: storm.status(i) for n, i in numbers.items()}
    assert {n for n, s in status.items() if s == "acknowledged"} == set(in_first) | set(newest)


def test_calls_to_one_number_never_overlap_and_carry_every_page_once(storm: Live) -> None:
    ada = storm.responder((CT.voice, ADA, 0))
    service = storm.service([(600, [ada.id])], first_number=1)
    for n in range(6):
        storm.trigger(service, title=f"Disk {n + 1} full")
        time.sleep(0.3)

    def carried() -> dict[str, set[str]] | None:
        rows = storm.notifications(user_id=ada.id, channel="voice")
        if any(r.provider_id is None for r in rows):
            return None
        calls: dict[str, set[str]] = {}
        for row in rows:
            assert row.provider_id is not None
            calls.setdefault(row.provider_id, set()).add(row.incident_id or "")
        return calls

    by_call = wait_until(carried, timeout=40)
    assert by_call is not None
    assert sum(len(v) for v in by_call.values()) == 6  # every page on exactly one call
    storm.twilio.wait_idle(timeout=10)
    calls = sorted(storm.twilio.calls_to(ADA), key=lambda c: c.date_created)
    assert {c.sid for c in calls} == set(by_call)
    assert 1 < len(calls) < 6  # pages that came during a call waited for it, together
    for before, after in itertools.pairwise(calls):
        assert before.end_time is not None
        assert after.date_created >= before.end_time, "a call while another was in progress"
