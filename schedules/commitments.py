"""What in the schedules still needs a person from now on (before they can be deactivated).

A rotation needs them when a version of a layer that is in force now or later, and covers
time from now on, names them in its turn order or holds them over past now. An override needs
them when it is not over yet. The past needs nobody: it is kept as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from schedules.core.values import LayerVersion
from schedules.models import LayerVersionRow, Schedule, ScheduleLayer, ScheduleOverride
from schedules.rows import version_of, versions_in_order

__all__ = ["ScheduleNeed", "version_needs", "what_needs"]


@dataclass(frozen=True)
class ScheduleNeed:
    """A rotation (``kind="rotation"``, a layer) or an override that still needs the person."""

    kind: str  # rotation | override
    schedule_id: str
    schedule: str
    layer_id: str | None = None
    layer: str | None = None
    override_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        if self.kind == "rotation":
            return f"rotation '{self.layer}' of schedule '{self.schedule}'"
        assert self.start is not None and self.end is not None
        return (
            f"override in schedule '{self.schedule}' "
            f"({self.start.isoformat()} to {self.end.isoformat()})"
        )


def version_needs(
    version: LayerVersion, until: datetime | None, user_id: str, now: datetime
) -> bool:
    """Whether ``version`` (in force until ``until``; None: for good) puts ``user_id`` on call
    at some time from ``now`` on (pure)."""
    ends = [t for t in (until, version.end) if t is not None]
    if ends and min(ends) <= now:
        return False  # over: only the past has them
    if user_id in version.users:
        return True
    hold = version.holdover
    return hold is not None and hold.user_id == user_id and hold.until > now


def _rotations(session: Session, user_id: str, now: datetime) -> list[ScheduleNeed]:
    needle = f'%"{user_id}"%'
    mentioned = select(ScheduleLayer.id).join(
        LayerVersionRow, LayerVersionRow.layer_id == ScheduleLayer.id
    )
    mentioned = mentioned.where(
        or_(
            cast(LayerVersionRow.users, String).like(needle),
            LayerVersionRow.holdover_user_id == user_id,
        )
    )
    layers = session.scalars(
        select(ScheduleLayer).where(ScheduleLayer.id.in_(mentioned)).order_by(ScheduleLayer.id)
    ).all()
    needs = []
    for layer in layers:
        rows = versions_in_order(layer.versions)
        for i, row in enumerate(rows):
            until = rows[i + 1].effective_from if i + 1 < len(rows) else None
            if version_needs(version_of(row), until, user_id, now):
                schedule = layer.schedule
                needs.append(
                    ScheduleNeed("rotation", schedule.id, schedule.name, layer.id, layer.name)
                )
                break
    return needs


def _overrides(session: Session, user_id: str, now: datetime) -> list[ScheduleNeed]:
    rows = session.execute(
        select(ScheduleOverride, Schedule.name)
        .join(Schedule, Schedule.id == ScheduleOverride.schedule_id)
        .where(ScheduleOverride.user_id == user_id, ScheduleOverride.end > now)
        .order_by(ScheduleOverride.start, ScheduleOverride.id)
    ).all()
    return [
        ScheduleNeed(
            "override",
            override.schedule_id,
            name,
            override_id=override.id,
            start=override.start,
            end=override.end,
        )
        for override, name in rows
    ]


def what_needs(session: Session, user_id: str, now: datetime) -> list[ScheduleNeed]:
    """Every current or future rotation and override that names ``user_id``."""
    return [*_rotations(session, user_id, now), *_overrides(session, user_id, now)]
