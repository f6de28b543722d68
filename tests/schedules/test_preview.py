"""Previewing an edit runs the saving call in a savepoint: same result, nothing written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from people.models import TeamRole
from people.service import authenticate
from schedules import preview, queries, rows
from schedules import service as schedules
from schedules.models import LayerVersionRow
from schedules.specs import LayerSpec, spec_of
from store.audit import AuditEntry
from store.db import Database
from store.errors import Forbidden
from tests.factories import SYSTEM, Factory

NOW = datetime(2025, 12, 10, 10, 30, tzinfo=UTC)  # a Wednesday
SINCE, UNTIL = NOW - timedelta(days=3), NOW + timedelta(days=21)


def _schedule(database: Database, users: list[str], team_id: str | None = None) -> str:
    start = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
    spec = LayerSpec("Weekly", start, tuple(users), start, 1, "weeks")
    with database.transaction() as session:
        return schedules.create_schedule(
            session, SYSTEM, name="Primary", time_zone="Europe/Berlin", team_id=team_id,
            layers=[spec],
        ).id  # fmt: skip


def _counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        versions = session.scalar(select(func.count()).select_from(LayerVersionRow))
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
        return int(versions or 0), int(audit or 0)


def _reordered(database: Database, schedule_id: str) -> list[LayerSpec]:
    with database.transaction() as session:
        schedule = schedules.get_schedule(session, schedule_id)
        layer = rows.ordered_layers(schedule)[0]
        spec = spec_of(layer.name, rows.layer_of(layer).versions[-1], layer.id)
    return [replace(spec, users=tuple(reversed(spec.users)))]


@pytest.mark.parametrize("keep_current", [True, False])
def test_the_preview_is_what_saving_then_does_and_writes_nothing(
    database: Database, factory: Factory, keep_current: bool
) -> None:
    ada, bob, cy = (factory.user(name=n).id for n in ("Ada", "Bob", "Cy"))
    schedule_id = _schedule(database, [ada, bob, cy])
    specs = _reordered(database, schedule_id)
    edits = schedules.LayerEdits(specs, None, keep_current)
    written = _counts(database)
    with database.transaction() as session:
        seen = preview.preview_update(
            session, SYSTEM, schedule_id, now=NOW, edits=edits, since=SINCE, until=UNTIL
        )
    assert _counts(database) == written
    assert seen.at == NOW
    assert seen.changes and all(c.start >= NOW for c in seen.changes)
    with database.transaction() as session:
        schedules.update_schedule(session, SYSTEM, schedule_id, now=NOW, edits=edits)
    with database.transaction() as session:
        saved = queries.schedule_timeline(session, schedule_id, SINCE, UNTIL)
    assert saved.final == seen.after.final
    assert [s for s in saved.final if s.end <= NOW] == [
        s for s in seen.before.final if s.end <= NOW
    ]


def test_a_preview_of_a_new_schedule_writes_nothing(database: Database, factory: Factory) -> None:
    ada = factory.user(name="Ada").id
    start = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
    spec = LayerSpec("Daily", start, (ada,), start, 1, "days")
    written = _counts(database)
    with database.transaction() as session:
        seen = preview.preview_create(
            session, SYSTEM, name="New", time_zone="UTC", team_id=None, layers=[spec], now=NOW,
            since=SINCE, until=UNTIL,
        )  # fmt: skip
    assert _counts(database) == written
    assert seen.before.final == () and [s.user_id for s in seen.after.final] == [ada]


def test_a_preview_checks_who_may_edit_like_saving(database: Database, factory: Factory) -> None:
    ada, bob = factory.user(name="Ada"), factory.user(name="Bob")
    team = factory.team()
    other = factory.team()
    factory.member(other, bob, TeamRole.manager)
    schedule_id = _schedule(database, [ada.id, bob.id], team)
    with database.transaction() as session:
        actor = authenticate(session, bob.token)
    assert actor is not None
    edits = schedules.LayerEdits(_reordered(database, schedule_id), None, True)
    written = _counts(database)
    with pytest.raises(Forbidden), database.transaction() as session:
        preview.preview_update(
            session, actor, schedule_id, now=NOW, edits=edits, since=SINCE, until=UNTIL
        )
    assert _counts(database) == written
