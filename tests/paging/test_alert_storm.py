"""Alert storms: many pages to one number become a few messages; none is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from paging.outbox.models import Notification, NotificationStatus
from people.models import ContactType as CT
from store.db import Database
from store.settings import Settings
from tests.factories import Factory
from tests.paging.conftest import Paging
from tests.waiting import wait_until


@pytest.fixture
def storm_paging(settings: Settings, database: Database, factory: Factory) -> Iterator[Paging]:
    quick = settings.model_copy(
        update={"page_burst_window_seconds": 2.0, "page_bundle_interval_seconds": 1.0}
    )
    app = create_app(quick, database, run_engine=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Paging(client=client, database=database, factory=factory)


def test_storm_of_incidents_is_bundled_and_every_incident_is_paged(storm_paging: Paging) -> None:
    paging = storm_paging
    ada = paging.responder((CT.sms, "+12015550101", 0))
    service = paging.service(paging.policy([(600, [ada.id])]))
    incidents = {paging.trigger(service, title=f"disk {i} full") for i in range(40)}

    def all_out() -> bool:
        return {n.incident_id for n in paging.sent_to(ada)} == incidents

    wait_until(all_out, timeout=20)
    with paging.database.transaction() as session:
        rows = session.scalars(select(Notification).where(Notification.user_id == ada.id)).all()
    assert all(r.status is NotificationStatus.sent for r in rows)
    messages = [r for r in rows if r.bundled_into is None]
    assert len(messages) < 15, f"{len(messages)} messages for 40 incidents"
    assert any(r.bundled_into for r in rows), "some pages went out in bundles"
    first = sorted(rows, key=lambda r: r.send_at)[0]
    assert first.bundled_into is None and first.sent_at is not None
    assert (first.sent_at - first.send_at).total_seconds() < 1.0, "the first page is not delayed"
