"""Screenshots of every web page, phone and desktop, into ``docs/screenshots/``.

Run: ``python -m tests.web.screenshots [output folder]`` (needs Debian's Chromium at
/usr/bin/chromium). Starts ``watchbill serve`` on a scratch SQLite database with no provider
configured (pages go to the log channel, so the test phone is on), fills a small organisation
through the services, lets the engine page, and photographs what a responder sees (signed in
as one, and through the SMS link) and then the team lead's desk (signed in as its manager),
with the same Playwright set-up as the browser tests.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from escalation import service as escalation
from escalation.models import TargetType
from paging.intake import heartbeats, maintenance, support_hours
from paging.outbox.models import Notification
from paging.providers.registry import wire
from paging.providers.twilio import short_links
from paging.response import notes
from people.models import ContactType, TeamRole, UserRole
from schedules import overrides
from schedules import service as schedules
from schedules.specs import LayerSpec, RestrictionSpec
from store.audit import Actor
from store.base import utcnow
from store.settings import Settings
from tests.factories import SYSTEM
from tests.waiting import wait_until
from tests.web.served import PASSWORD, VIEWPORTS, Served, launch_options, new_number, serve

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def organisation(served: Served) -> dict[str, str]:
    """A team with a manager and three responders, a schedule, a policy, a service."""
    ada = served.person(name="Ada Lovelace", role=UserRole.admin, time_zone="Europe/Berlin")
    bob = served.person(name="Bob Okafor", time_zone="Europe/Berlin")
    chen = served.person(name="Chen Wei", time_zone="Asia/Singapore")
    dana = served.person(name="Dana Petrova", time_zone="America/New_York")
    for person in (ada, bob, chen, dana):
        served.responder(person, ContactType.sms, new_number())
    team = served.team(
        (ada, TeamRole.manager), (bob, TeamRole.responder), (chen, TeamRole.responder),
        (dana, TeamRole.responder),
    )  # fmt: skip
    now = utcnow()
    monday = (now - timedelta(days=now.weekday() + 7)).replace(hour=8, minute=0, second=0,
                                                                microsecond=0)  # fmt: skip
    with served.database.transaction() as session:
        schedule = schedules.create_schedule(
            session,
            SYSTEM,
            name="Payments primary",
            time_zone="Europe/Berlin",
            team_id=team,
            layers=[
                LayerSpec(
                    name="Weekly", start=monday, users=(bob.id, chen.id, dana.id), handoff=monday,
                    shift_length=1, shift_unit="weeks",
                    restrictions=(RestrictionSpec("08:00", "08:00", ("mon", "tue", "wed", "thu",
                                                                    "fri", "sat")),),
                ),
                LayerSpec(
                    name="Business hours", start=monday, users=(ada.id, chen.id), handoff=monday,
                    shift_length=1, shift_unit="days",
                    restrictions=(RestrictionSpec("09:00", "17:00", ("mon", "tue", "wed", "thu",
                                                                    "fri")),),
                ),
            ],
        )  # fmt: skip
        session.flush()
        tomorrow = (now + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
        # Bob covers the next hours, whatever day the pictures are taken: he is paged now.
        overrides.create_override(
            session, SYSTEM, schedule.id, user_id=bob.id, start=now, end=now + timedelta(hours=3),
            now=now,
        )  # fmt: skip
        overrides.create_override(
            session, SYSTEM, schedule.id, user_id=dana.id, start=tomorrow,
            end=tomorrow + timedelta(hours=6), now=now,
        )  # fmt: skip
        policy = escalation.create_policy(
            session, SYSTEM, name="Payments", team_id=team, repeat=1,
            tiers=[
                escalation.TierInput(300, [(TargetType.schedule, schedule.id)]),
                escalation.TierInput(900, [(TargetType.user, ada.id)]),
            ],
        )  # fmt: skip
        service = escalation.create_service(
            session, SYSTEM, name="Checkout API", escalation_policy_id=policy.id, team_id=team,
            acknowledgement_timeout_seconds=1800, auto_resolve_timeout_seconds=None,
        )  # fmt: skip
        session.flush()
        heartbeats.create(
            session, SYSTEM, service.id, name="nightly-backup", interval_seconds=86400,
            grace_seconds=600, now=now,
        )  # fmt: skip
        maintenance.create_window(
            session, SYSTEM, service.id, starts_at=tomorrow + timedelta(hours=10),
            ends_at=tomorrow + timedelta(hours=11), page_on_end=False,
            description="Database upgrade", now=now,
        )  # fmt: skip
        support_hours.put(
            session, SYSTEM, service.id, time_zone="Europe/Berlin",
            windows=[support_hours.WindowInput(["mon", "tue", "wed", "thu", "fri"], "08:00",
                                               "18:00")],
            urgency_during=None, urgency_outside=None, now=now,
        )  # fmt: skip
        ids = {"schedule": schedule.id, "policy": policy.id, "service": service.id, "team": team}
    first, _ = (
        served.trigger(ids["service"], t) for t in ("Card payments failing", "Latency above 2 s")
    )
    with served.database.transaction() as session:
        notes.add_note(
            session, Actor(ada.id, True, f"user:{ada.email}"), first,
            "Rolling back the 02:40 deploy.", utcnow(), via="web",
        )  # fmt: skip
    ids |= {"incident": first, "email": ada.email, "responder": bob.email, "responder_id": bob.id}
    return ids


def responder_pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("incidents", "/incidents"),
        ("incident", f"/incidents/{ids['incident']}"),
        ("profile", "/profile"),
    ]


def desk_pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("home-coverage", "/"),
        ("schedules", "/schedules"),
        ("schedule-week", f"/schedules/{ids['schedule']}"),
        ("schedule-month", f"/schedules/{ids['schedule']}?view=month&tz=mine"),
        ("schedule-day", f"/schedules/{ids['schedule']}?view=day"),
        ("rotation-editor", f"/schedules/{ids['schedule']}/edit"),
        ("new-schedule", "/schedules/new"),
        ("policies", "/policies"),
        ("policy", f"/policies/{ids['policy']}"),
        ("policy-editor", f"/policies/{ids['policy']}/edit"),
        ("services", "/services"),
        ("service", f"/services/{ids['service']}"),
        ("teams", "/teams"),
        ("team", f"/teams/{ids['team']}"),
        ("people", "/people"),
        ("audit", "/audit"),
        ("test-phone", "/test-phone"),  # admins only
    ]


#: The tallest picture kept (CSS pixels): long lists are cut below it.
TALLEST = 2600


def snap(page: Page, path: Path) -> None:
    size = page.viewport_size or {"width": 1280, "height": 800}
    height = min(TALLEST, int(page.evaluate("document.documentElement.scrollHeight")))
    clip = {"x": 0, "y": 0, "width": size["width"], "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip, type="jpeg", quality=65)  # type: ignore[arg-type]


def shoot(page: Page, served: Served, name: str, path: str, viewport: str, out: Path) -> None:
    page.goto(served.url(path))
    snap(page, out / f"{name}-{viewport}.jpg")


def preview(page: Page, served: Served, ids: dict[str, str], viewport: str, out: Path) -> None:
    page.goto(served.url(f"/schedules/{ids['schedule']}/edit"))
    layer = page.get_by_role("group", name="Layer 1", exact=True)
    layer.get_by_role("button", name="Move Chen Wei down").click()
    page.get_by_role("button", name="Preview", exact=True).click()
    top = page.locator("#preview").bounding_box()
    assert top is not None
    size = page.viewport_size or {"width": 1280, "height": 800}
    clip = {"x": 0, "y": top["y"], "width": size["width"], "height": min(top["height"], TALLEST)}
    page.screenshot(
        path=str(out / f"rotation-preview-{viewport}.jpg"),
        full_page=True,
        clip=clip,  # type: ignore[arg-type]
        type="jpeg",
        quality=65,
    )


def cover(page: Page, served: Served, ids: dict[str, str], viewport: str, out: Path) -> None:
    page.goto(served.url(f"/schedules/{ids['schedule']}"))
    page.locator("ol.shift-list a", has_text="Cover…").last.click()
    snap(page, out / f"cover-shift-{viewport}.jpg")


def paged(served: Served, incident_id: str) -> bool:
    with served.database.transaction() as session:
        sent = select(Notification.id).where(
            Notification.incident_id == incident_id, Notification.sent_at.is_not(None)
        )
        return session.scalar(sent) is not None


def sign_in(page: Page, served: Served, email: str) -> None:
    page.goto(served.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(served.url("/"))


def sms_link(served: Served, ids: dict[str, str]) -> str:
    """The short link the responder's page SMS carries (once the engine has paged them)."""
    settings = Settings(_env_file=None, public_url=served.base_url)
    with served.database.transaction() as session:
        token = short_links.token_for(
            session, settings, ids["incident"], ids["responder_id"], utcnow()
        )
    return short_links.PATH + token


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    wire(Settings(_env_file=None))
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as directory,
        serve("sqlite", Path(directory), providers=False) as served,
        sync_playwright() as playwright,
    ):
        ids = organisation(served)
        wait_until(lambda: paged(served, ids["incident"]), 15)
        link = sms_link(served, ids)
        browser = playwright.chromium.launch(**launch_options())
        for viewport, options in VIEWPORTS.items():
            context = browser.new_context(**{**options, "device_scale_factor": 1})
            page = context.new_page()
            shoot(page, served, "login", "/login", viewport, out)
            shoot(page, served, "sms-link", link, viewport, out)
            sign_in(page, served, ids["responder"])
            for name, path in responder_pages(ids):
                shoot(page, served, name, path, viewport, out)
            context.clear_cookies()
            sign_in(page, served, ids["email"])
            for name, path in desk_pages(ids):
                shoot(page, served, name, path, viewport, out)
            preview(page, served, ids, viewport, out)
            cover(page, served, ids, viewport, out)
            context.close()
        browser.close()
    print(f"screenshots in {out} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
