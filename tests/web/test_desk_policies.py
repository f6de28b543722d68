"""An escalation policy edited in real Chromium: its "who would be paged right now" column is
who the engine pages for a test incident, level by level."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from escalation import service as escalation
from escalation.models import TargetType
from paging.outbox.models import Notification
from people.models import ContactType, TeamRole
from schedules import service as schedules
from schedules.specs import LayerSpec
from store.base import utcnow
from tests.factories import SYSTEM
from tests.waiting import wait_until
from tests.web.conftest import sign_in
from tests.web.served import Served, new_number, unique


def _paged(page: Page, level: int) -> set[str]:
    """The people the column says level ``level`` reaches (only those it can reach are listed;
    who cannot be reached is said apart, with why)."""
    found = page.locator(f'li[data-tier="{level}"] li.paged-person').evaluate_all(
        "items => items.map(i => i.dataset.user)"
    )
    return set(found)


def _notified(served: Served, incident_id: str, tier: int) -> set[str]:
    with served.database.transaction() as session:
        rows = session.scalars(
            select(Notification.user_id).where(
                Notification.incident_id == incident_id, Notification.tier == tier
            )
        )
        return {u for u in rows if u}


def test_paged_right_now_is_who_the_engine_pages(page: Page, served: Served) -> None:
    n = unique()
    lead = served.person(name=f"Lee Lead {n}")
    on_call, spare, mute = (
        served.person(name=f"{name} {n}") for name in ("Oda Oncall", "Sam Spare", "Max Mute")
    )
    for person in (on_call, spare, lead):
        served.responder(person, ContactType.sms, new_number())
    team = served.team((lead, TeamRole.manager), (on_call, TeamRole.responder),
                       (spare, TeamRole.responder), (mute, TeamRole.responder))  # fmt: skip
    start = utcnow().replace(microsecond=0)
    with served.database.transaction() as session:
        schedule = schedules.create_schedule(
            session, SYSTEM, name="Front line", time_zone="UTC", team_id=team,
            layers=[LayerSpec("All week", start, (on_call.id,), start, 1, "weeks")],
        )  # fmt: skip
        policy = escalation.create_policy(
            session, SYSTEM, name="Front", team_id=team, repeat=0,
            tiers=[escalation.TierInput(600, [(TargetType.schedule, schedule.id)])],
        )  # fmt: skip
        service = escalation.create_service(
            session, SYSTEM, name="Front door", escalation_policy_id=policy.id, team_id=team,
            acknowledgement_timeout_seconds=None, auto_resolve_timeout_seconds=None,
        )  # fmt: skip
        session.flush()
        policy_id, service_id = policy.id, service.id
    sign_in(page, served, lead, f"/policies/{policy_id}")
    page.get_by_role("link", name="Edit policy").click()
    first = page.get_by_role("group", name="Level 1", exact=True)
    first.get_by_label("Add to level 1").select_option(label=f"Max Mute {n}")
    first.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("button", name="Add level").click()
    second = page.get_by_role("group", name="Level 2", exact=True)
    second.get_by_label("Add to level 2").select_option(label=f"Sam Spare {n}")
    second.get_by_role("button", name="Add", exact=True).click()
    page.get_by_label("Minutes (level 1)").fill("5")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_have_text("Policy Front saved.")
    column = page.get_by_role("region", name="Who would be paged right now")
    expect(column).to_contain_text(
        f"Max Mute {n} has no notification rules with an enabled contact method"
    )
    level_one, level_two = _paged(page, 1), _paged(page, 2)
    assert level_one == {on_call.id} and level_two == {spare.id}
    incident_id = served.trigger(service_id, "Front door returns 502")
    assert wait_until(lambda: _notified(served, incident_id, 0), timeout=10) == level_one
    answer = httpx.post(
        served.url(f"/api/v1/incidents/{incident_id}/escalate"), headers=lead.headers,
        trust_env=False,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert wait_until(lambda: _notified(served, incident_id, 1), timeout=10) == level_two
