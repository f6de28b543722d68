"""Screenshots of every web page, phone and desktop, into ``docs/screenshots/``.

Run: ``python -m bench.screenshots`` (needs Debian's Chromium at /usr/bin/chromium). It starts
``watchbill serve`` on a scratch SQLite database with no providers configured (so pages go to
the log channel and the test phone is on), fills in a small organisation, lets the engine
page, and photographs each page with the same Playwright set-up as the browser tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from escalation import service as escalation
from escalation.models import Severity, TargetType
from paging import notes, sms_links
from paging.intake.trigger import Trigger, ingest
from people import contacts, passwords
from people import service as people
from people.models import ContactType, TeamRole, Urgency, UserRole
from schedules import service as schedules
from schedules.specs import LayerSpec
from store import migrate
from store.audit import Actor
from store.db import Database
from store.settings import Settings

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "screenshots only 1"
SYSTEM = Actor.system("screenshots")
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 860}},
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def populate(database: Database) -> dict[str, str]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with database.transaction() as session:

        def person(name: str, email: str, role: UserRole = UserRole.member) -> str:
            user = people.create_user(
                session, SYSTEM, name=name, email=email, time_zone="Europe/London", role=role
            )
            session.flush()
            passwords.set_password(session, SYSTEM, user.id, PASSWORD)
            return user.id

        ada = person("Ada Lovelace", "ada@example.com", UserRole.admin)
        grace = person("Grace Hopper", "grace@example.com")
        alan = person("Alan Turing", "alan@example.com")
        team = people.create_team(session, SYSTEM, name="Payments").id
        session.flush()
        for user, role in (
            (ada, TeamRole.manager),
            (grace, TeamRole.responder),
            (alan, TeamRole.responder),
        ):
            people.add_member(session, SYSTEM, team, user_id=user, role=role)
        for user, number in ((grace, "+14155550101"), (alan, "+14155550102")):
            cm, _ = contacts.create_contact_method(
                session, SYSTEM, user, kind=ContactType.sms, address=number, now=now
            )
            session.flush()
            contacts.create_rule(
                session,
                SYSTEM,
                user,
                contact_method_id=cm.id,
                delay_seconds=0,
                urgency=Urgency.high,
            )
        start = now - timedelta(days=2)
        primary = schedules.create_schedule(
            session,
            SYSTEM,
            name="Payments primary",
            time_zone="Europe/London",
            team_id=team,
            layers=[LayerSpec("Weekly", start, (grace, alan), start, 7, "days")],
        )
        secondary = schedules.create_schedule(
            session,
            SYSTEM,
            name="Payments secondary",
            time_zone="Europe/London",
            team_id=team,
            layers=[LayerSpec("Weekly", start, (alan, grace), start, 7, "days")],
        )
        session.flush()
        policy = escalation.create_policy(
            session,
            SYSTEM,
            name="Payments",
            team_id=team,
            repeat=1,
            tiers=[
                escalation.TierInput(300, [(TargetType.schedule, primary.id)]),
                escalation.TierInput(600, [(TargetType.schedule, secondary.id)]),
            ],
        )
        session.flush()
        service = escalation.create_service(
            session,
            SYSTEM,
            name="Checkout API",
            escalation_policy_id=policy.id,
            team_id=team,
            acknowledgement_timeout_seconds=None,
            auto_resolve_timeout_seconds=None,
        )
        session.flush()
        first = ingest(
            session,
            service,
            Trigger(
                title="Checkout API error rate above 5%",
                details={
                    "source": "checkout-1",
                    "custom_details": {
                        "error_rate": "7.2%",
                        "runbook": "https://runbooks.example/checkout",
                    },
                },
            ),
            now,
        ).incident
        ingest(
            session,
            service,
            Trigger(title="Disk 91% full on db-2", severity=Severity.warning),
            now,
        )
        session.flush()
        notes.add_note(
            session,
            Actor(ada, True, "user:ada@example.com"),
            first.id,
            "Rolling back the 02:40 deploy.",
            now,
            via="web",
        )
        return {"incident": first.id, "schedule": primary.id, "grace": grace}


def shoot(page: Page, base: str, path: str, name: str, viewport: str) -> None:
    page.goto(base + path)
    page.wait_for_load_state("networkidle")
    target = OUT / f"{name}-{viewport}.png"
    page.screenshot(path=str(target), full_page=True)
    print(f"  {target.relative_to(OUT.parent.parent)}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'shots.db'}"
        database = Database(url)
        migrate.upgrade(database.engine)
        ids = populate(database)
        port = _port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
        env.update(WATCHBILL_DATABASE_URL=url, WATCHBILL_PUBLIC_URL=base)
        log = (Path(directory) / "serve.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1, trust_env=False).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            time.sleep(3)  # the engine pages tier 1 (to the log channel)
            with database.transaction() as session:
                token = sms_links.token_for(
                    session,
                    Settings(_env_file=None, database_url=url, public_url=base),
                    ids["incident"],
                    ids["grace"],
                    datetime.now(UTC),
                )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                    ],
                )
                for viewport, options in VIEWPORTS.items():
                    context = browser.new_context(**options)
                    page = context.new_page()
                    shoot(page, base, "/login", "login", viewport)
                    shoot(page, base, sms_links.PATH + token, "sms-link", viewport)
                    page.goto(base + "/login")
                    page.get_by_label("Email").fill("ada@example.com")
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_url(base + "/")
                    shoot(page, base, "/", "home", viewport)
                    shoot(page, base, "/incidents", "incidents", viewport)
                    shoot(page, base, f"/incidents/{ids['incident']}", "incident", viewport)
                    shoot(page, base, f"/schedules/{ids['schedule']}", "schedule", viewport)
                    shoot(page, base, "/profile", "profile", viewport)
                    shoot(page, base, "/test-phone", "test-phone", viewport)
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()
            database.dispose()


if __name__ == "__main__":
    main()
