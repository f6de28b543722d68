"""Call again until reached: a notification rule repeats (``repeat_every_seconds``,
``repeat_times``) until the incident is acknowledged; each repeat is a step of its own."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from paging.outbox.models import Notification, NotificationStatus
from people.models import ContactType as CT
from tests.live_service import Live
from tests.waiting import stays, wait_until

ADA = "+12015550101"
EVERY = 3


def _rule(live: Live, user_id: str, cm_id: str, status: int = 201, **repeat: int) -> dict[str, Any]:
    body = {"contact_method_id": cm_id, "delay_seconds": 0, **repeat}
    return live.post(f"/users/{user_id}/notification-rules", body, status)


def test_rule_repeats_are_validated_and_shown(live: Live) -> None:
    ada = live.factory.user()
    cm = live.factory.contact(ada, CT.voice, ADA)
    made = _rule(live, ada.id, cm, repeat_every_seconds=300)
    assert (made["repeat_every_seconds"], made["repeat_times"]) == (300, 3)
    problem = _rule(live, ada.id, cm, 422, repeat_times=2)
    assert problem["errors"][0]["field"] == "repeat_every_seconds"
    problem = _rule(live, ada.id, cm, 422, repeat_every_seconds=60, repeat_times=21)
    assert problem["errors"][0]["field"] == "repeat_times"
    plain = live.post(
        f"/users/{ada.id}/notification-rules", {"contact_method_id": cm, "delay_seconds": 60}
    )
    assert (plain["repeat_every_seconds"], plain["repeat_times"]) == (None, 0)


def test_a_voice_rule_with_repeats_calls_again_until_key_4_and_then_never_again(
    live: Live,
) -> None:
    ada = live.factory.user(name="Ada")
    cm = live.factory.contact(ada, CT.voice, ADA)
    _rule(live, ada.id, cm, repeat_every_seconds=EVERY, repeat_times=3)
    live.twilio.set_call_outcome(ADA, "no-answer")
    incident = live.page(ada, delay=600)["id"]

    wait_until(lambda: live.twilio.calls_to(ADA), timeout=3)
    live.twilio.set_call_outcome(ADA, "answer")  # she wakes up for the next one
    live.twilio.queue_digits(ADA, "4")
    wait_until(lambda: len(live.twilio.calls_to(ADA)) == 2, timeout=EVERY + 3)
    wait_until(lambda: live.status(incident) == "acknowledged", timeout=10)
    assert stays(lambda: len(live.twilio.calls_to(ADA)) == 2, 2 * EVERY + 1)

    rows = sorted(live.recorded(incident_id=incident), key=lambda r: r.repeat)
    assert [(r.repeat, r.status) for r in rows] == [
        (0, NotificationStatus.failed),  # no answer
        (1, NotificationStatus.delivered),  # answered, key 4
        (2, NotificationStatus.cancelled),
        (3, NotificationStatus.cancelled),
    ]
    gap = rows[1].send_at - rows[0].send_at
    assert gap.total_seconds() == EVERY
    ack = [e for e in live.incident(incident)["log"] if e["kind"] == "acknowledged"]
    assert len(ack) == 1 and "via voice" in ack[0]["message"]

    # Each repeat is a step of its own key: it cannot be enqueued twice.
    with pytest.raises(IntegrityError), live.database.transaction() as session:
        again = session.scalars(select(Notification).where(Notification.repeat == 2)).one()
        session.add(
            Notification(
                kind="page",
                incident_id=again.incident_id,
                epoch=again.epoch,
                loop=again.loop,
                tier=again.tier,
                user_id=again.user_id,
                rule_id=again.rule_id,
                repeat=2,
                contact_method_id=again.contact_method_id,
                channel="voice",
                address=ADA,
                send_at=again.send_at,
            )
        )
