from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from people.models import ContactType as CT
from tests.paging.conftest import Paging
from tests.waiting import wait_until


def _samples(paging: Paging) -> dict[str, float]:
    text = paging.client.get("/metrics").text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def test_metrics_count_pages_and_time_hand_offs(paging: Paging) -> None:
    before = _samples(paging)
    ada = paging.responder((CT.sms, "+12015550101", 0))
    incident = paging.trigger(paging.service(paging.policy([(1, [ada.id]), (600, [ada.id])])))
    wait_until(lambda: len(paging.sent_to(ada, incident)) == 2, timeout=5)
    after = _samples(paging)
    # No provider is configured: the log channel wrote them, and nothing claims an SMS went out.
    key = "watchbill_notifications_total{channel=log,outcome=sent}"
    assert after[key] - before.get(key, 0) >= 2
    sms = "watchbill_notifications_total{channel=sms,outcome=sent}"
    assert after.get(sms, 0) == before.get(sms, 0)
    count = "watchbill_handoff_delay_seconds_count{}"
    assert after[count] - before.get(count, 0) >= 2
    steps = "watchbill_escalation_steps_total{kind=step}"
    assert after[steps] - before.get(steps, 0) >= 1
