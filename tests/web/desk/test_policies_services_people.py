"""Policies, services, teams, people and the audit log, posted as a browser would."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from escalation import service as escalation
from escalation.models import EscalationPolicy, Service, TargetType
from paging.intake import maintenance
from paging.outbox import contact_notices
from paging.outbox.models import Notification
from people.models import ContactType, TeamMembership, TeamRole
from tests.factories import SYSTEM
from tests.web.desk.conftest import Desk, form_fields, replaced, weekly


def _policy_fields(html: str) -> list[tuple[str, str]]:
    return form_fields(html, "policy-editor")


def test_a_manager_builds_a_policy_and_sees_who_would_be_paged(desk: Desk) -> None:
    ada, bob = desk.person("Ada"), desk.person("Bob")
    desk.factory.rule(bob, desk.factory.contact(bob, ContactType.sms, "+14155550111"))
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    schedule_id = desk.schedule(team, [weekly([bob.id])], name="Primary")
    manager = desk.sign_in(ada)
    fields = replaced(_policy_fields(manager.get("/policies/new").text), name="Payments")
    fields = replaced(fields, **{"tiers-0-add_target": f"schedule:{schedule_id}"})
    html = manager.post("/policies/new", [*fields, ("op", "add_target:0")]).text
    assert "Level 1" in html and "Bob" in html  # who would be paged, while editing
    fields = _policy_fields(
        manager.post("/policies/new", [*_policy_fields(html), ("op", "add_tier")]).text
    )
    fields = replaced(fields, **{"tiers-1-add_target": f"user:{ada.id}", "tiers-0-minutes": "2",
                                 "tiers-0-seconds": "30"})  # fmt: skip
    fields = _policy_fields(manager.post("/policies/new", [*fields, ("op", "add_target:1")]).text)
    saved = manager.post("/policies/new", [*fields, ("op", "save")])
    assert saved.status_code == 303
    page = manager.get(saved.headers["location"]).text
    assert "Who would be paged right now" in page
    assert re.search(r'data-user="' + bob.id + r'">Bob: SMS \+14155550111 at once', page)
    assert "Ada has no notification rules with an enabled contact method" in page
    with desk.database.transaction() as session:
        policy = session.scalars(select(EscalationPolicy)).one()
        assert [t.delay_seconds for t in policy.tiers] == [150, 300]
        assert [(x.type, x.target_id) for x in policy.tiers[0].targets] == [
            (TargetType.schedule, schedule_id)
        ]
    eve = desk.person("Eve")
    desk.team((eve, TeamRole.manager))
    intruder = desk.sign_in(eve)
    assert "Edit policy" not in intruder.get(saved.headers["location"]).text
    edit = saved.headers["location"] + "/edit"
    assert intruder.get(edit).status_code == 403
    forged = intruder.post(edit, [*fields, ("op", "save"), ("name", "Hijacked")])
    assert forged.status_code == 403


def _service(desk: Desk, team: str, person_id: str) -> str:
    with desk.database.transaction() as session:
        policy = escalation.create_policy(
            session, SYSTEM, name="P", team_id=team, repeat=0,
            tiers=[escalation.TierInput(60, [(TargetType.user, person_id)])],
        )  # fmt: skip
        session.flush()
        service = escalation.create_service(
            session, SYSTEM, name="Checkout", escalation_policy_id=policy.id, team_id=team,
            acknowledgement_timeout_seconds=None, auto_resolve_timeout_seconds=None,
        )  # fmt: skip
        session.flush()
        return service.id


def _key(desk: Desk, service_id: str) -> str:
    with desk.database.transaction() as session:
        return session.get_one(Service, service_id).integration_key


def test_the_key_is_shown_to_managers_only_and_maintenance_runs_from_the_page(
    desk: Desk,
) -> None:
    ada, bob = desk.person("Ada"), desk.person("Bob")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    service_id = _service(desk, team, bob.id)
    key = _key(desk, service_id)
    manager, responder = desk.sign_in(ada), desk.sign_in(bob)
    page = manager.get(f"/services/{service_id}").text
    assert key in page and f"/integrations/alertmanager/{key}" in page
    assert "pagerduty_configs" in page and "webhook_configs" in page and "/v2/enqueue" in page
    hidden = responder.get(f"/services/{service_id}").text
    assert key not in hidden and "&lt;integration key&gt;" in hidden
    assert (
        responder.post(f"/services/{service_id}/rotate-key", {"confirm": "yes"}).status_code == 403
    )
    assert _key(desk, service_id) == key
    rotated = manager.post(f"/services/{service_id}/rotate-key", {"confirm": "yes"})
    assert manager.flash(rotated).startswith("New integration key made")
    assert _key(desk, service_id) != key
    # Muting a service is the team managers' (and admins') call, never a responder's.
    assert "Start maintenance" not in hidden
    refused = responder.post(f"/services/{service_id}/maintenance", {"minutes": "30"})
    assert refused.status_code == 403
    started = manager.post(f"/services/{service_id}/maintenance", {"minutes": "30"})
    assert "nobody is paged" in manager.flash(started)
    with desk.database.transaction() as session:
        window = maintenance.active_window(session, service_id, desk.clock.now)
        assert window is not None
    ended = manager.post(f"/services/{service_id}/maintenance/{window.id}/end", {})
    assert manager.flash(ended) == "Maintenance ended: the service pages again."
    added = manager.post(
        f"/services/{service_id}/heartbeats",
        {"name": "nightly-backup", "interval_minutes": "1440", "grace_minutes": "10"},
    )
    assert "arms at its first ping" in manager.flash(added)
    assert "Waiting for first ping" in manager.get(f"/services/{service_id}").text
    hours = manager.post(
        f"/services/{service_id}/support-hours",
        {"time_zone": "Europe/Berlin", "w-0-start": "08:00", "w-0-end": "18:00",
         "during-warning": "high"},
    )  # fmt: skip
    assert manager.flash(hours) == "Support hours saved."
    assert "08:00–18:00 (Europe/Berlin)" in manager.get(f"/services/{service_id}").text


def test_managers_change_members_and_admins_invite_and_deactivate(desk: Desk) -> None:
    root = desk.person("Root", admin=True)
    ada, bob, cy = desk.person("Ada"), desk.person("Bob"), desk.person("Cy")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    manager = desk.sign_in(ada)
    added = manager.post(f"/teams/{team}/members", {"user_id": cy.id, "role": "observer"})
    assert manager.flash(added) == "Cy is a observer of the team."
    responder = desk.sign_in(bob)
    forged = responder.post(f"/teams/{team}/members", {"user_id": bob.id, "role": "manager"})
    assert forged.status_code == 403
    with desk.database.transaction() as session:
        roles = {m.user_id: m.role for m in session.scalars(select(TeamMembership))}
    assert roles == {ada.id: TeamRole.manager, bob.id: TeamRole.responder, cy.id: TeamRole.observer}
    admin = desk.sign_in(root)
    invited = admin.post(
        "/people/invite", {"name": "Dee", "email": "dee@example.com", "time_zone": "Asia/Tokyo"}
    )
    assert invited.status_code == 200  # mail is off here: the link is shown to pass on
    link = re.search(
        r'id="invite-link" value="http://testserver(/password/reset/[^"]+)"', invited.text
    )
    assert link is not None
    with desk.database.transaction() as session:
        mail = session.scalars(
            select(Notification).where(Notification.kind == contact_notices.INVITE)
        ).one()
        assert mail.address == "dee@example.com" and link.group(1) in (mail.payload or {})["text"]
    with TestClient(desk.app) as newcomer:
        form = newcomer.get(link.group(1))
        assert "Set a new password" in form.text and "dee@example.com" in form.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        done = newcomer.post(
            link.group(1),
            data={"password": "a long new password", "password_again": "a long new password",
                  "csrf_token": token.group(1)},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303 and done.headers["location"] == "/login"
    assert responder.post(f"/people/{cy.id}/deactivate", {"confirm": "yes"}).status_code == 403
    gone = admin.post(f"/people/{cy.id}/deactivate", {"confirm": "yes"})
    assert admin.flash(gone).startswith("Cy is deactivated")
    assert not desk.may_sign_in(cy)


def test_the_audit_log_reads_as_sentences_for_admins_only(desk: Desk) -> None:
    root, ada = desk.person("Root", admin=True), desk.person("Ada")
    team = desk.team((ada, TeamRole.manager))
    desk.schedule(team, [weekly([ada.id])], name="Primary")
    log = desk.sign_in(root).get("/audit?kind=schedules")
    assert log.status_code == 200
    assert "tests created schedule Primary" in log.text
    assert "created team" not in log.text
    assert desk.sign_in(ada).get("/audit").status_code == 403


def test_a_manager_sees_coverage_warnings_for_their_teams_on_the_home_page(desk: Desk) -> None:
    ada, bob = desk.person("Ada"), desk.person("Bob")
    team = desk.team((ada, TeamRole.manager), (bob, TeamRole.responder))
    desk.schedule(team, [weekly([bob.id], days=("mon", "tue", "wed"))], name="Weekdays")
    home = desk.sign_in(ada).get("/").text
    assert "Coverage warnings (next 14 days)" in home
    assert 'Nobody on call</strong> <a href="/schedules/' in home and "Weekdays" in home
    assert "Coverage warnings" not in desk.sign_in(bob).get("/").text
