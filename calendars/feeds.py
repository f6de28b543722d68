"""What goes into a feed: the inputs read from the database and the events built from them.

Dependency rule: ``calendars`` imports ``schedules`` (its service and pure core), ``people``,
``store`` and reads ``escalation.models`` (which escalation levels a schedule serves); it never
imports ``api`` or ``paging``.

A feed shows *whole* shifts of the final schedule (after overrides), with touching pieces of the
same person merged, even where they reach beyond the requested window: clipping them to a
window that slides every day would change their start (and so their UID) every day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars.render import gap_summary_for, summary_for
from escalation.models import EscalationPolicy, EscalationTarget, EscalationTier, TargetType
from people.models import User
from schedules import service as schedules
from schedules.core import values
from schedules.core.timeline import EXTENT_CAP, on_call, on_call_user, timeline
from schedules.models import Schedule
from store.errors import Invalid

__all__ = [
    "FEED_VERSION",
    "FeedInputs",
    "Occurrence",
    "ScheduleInputs",
    "digest_of",
    "escalation_levels",
    "inputs_key",
    "load_inputs",
    "occurrences",
    "uid_namespace",
    "whole_shifts",
]

#: Part of every digest: bump it when the rendering of the same inputs changes.
FEED_VERSION = "feed-v1"
_TICK = timedelta(microseconds=1)
_MAX_EXTEND = 64
#: Events are written at one-second resolution; shorter slivers are left out.
_SHORTEST = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Piece:
    """A whole shift of one person, with every source that put them on call."""

    user_id: str
    start: datetime
    end: datetime
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An event a feed wants to show (before UIDs and SEQUENCE are attached)."""

    schedule_id: str
    user_id: str | None
    start: datetime
    end: datetime
    summary: str
    description: str
    is_gap: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleInputs:
    """One schedule as a feed needs it: its row data, pure form and escalation levels."""

    id: str
    name: str
    time_zone: str
    pure: values.SchedulePlan
    layer_names: tuple[str, ...]
    escalation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedInputs:
    """Everything a feed's body depends on besides the stored UID/SEQUENCE state."""

    schedules: tuple[ScheduleInputs, ...]
    names: dict[str, str] = field(default_factory=dict)


def uid_namespace(public_url: str) -> str:
    """The ``@domain`` part of UIDs: the host we are reached at."""
    return urlsplit(public_url).hostname or "watchbill"


def escalation_levels(session: Session, schedule_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Per schedule, the escalation levels it serves: ``"<policy> (level <n>)"``, sorted."""
    if not schedule_ids:
        return {}
    rows = session.execute(
        select(EscalationTarget.target_id, EscalationPolicy.name, EscalationTier.position)
        .join(EscalationTier, EscalationTier.id == EscalationTarget.tier_id)
        .join(EscalationPolicy, EscalationPolicy.id == EscalationTier.policy_id)
        .where(
            EscalationTarget.type == TargetType.schedule,
            EscalationTarget.target_id.in_(list(schedule_ids)),
        )
    ).all()
    found: dict[str, set[tuple[str, int]]] = {}
    for schedule_id, policy, position in rows:
        found.setdefault(schedule_id, set()).add((policy, position + 1))
    return {
        sid: tuple(f"{name} (level {level})" for name, level in sorted(levels))
        for sid, levels in found.items()
    }


def _user_ids(pure: values.SchedulePlan) -> set[str]:
    ids = {o.user_id for o in pure.overrides}
    for layer in pure.layers:
        for version in layer.versions:
            ids.update(version.users)
            if version.holdover is not None:
                ids.add(version.holdover.user_id)
    return ids


def load_inputs(
    session: Session, rows: Sequence[Schedule], since: datetime, until: datetime
) -> FeedInputs:
    """Read the schedules (overrides near the window only), names and escalation levels."""
    levels = escalation_levels(session, [row.id for row in rows])
    loaded: list[ScheduleInputs] = []
    user_ids: set[str] = set()
    for row in rows:
        around = (since - EXTENT_CAP, until + EXTENT_CAP)
        pure = schedules.load_schedule(session, row.id, around=around)
        user_ids |= _user_ids(pure)
        layer_names = tuple(layer.name for layer in pure.layers)
        loaded.append(
            ScheduleInputs(
                row.id, row.name, row.time_zone, pure, layer_names, levels.get(row.id, ())
            )
        )
    names: dict[str, str] = {}
    if user_ids:
        found = session.execute(select(User.id, User.name).where(User.id.in_(sorted(user_ids))))
        names = {user_id: name for user_id, name in found}
    return FeedInputs(tuple(loaded), names)


def digest_of(*parts: object) -> str:
    """SHA-256 of ``repr(parts)``: plain values and frozen dataclasses of them.

    Equal digests mean equal inputs (``repr`` of these types is exact). Unequal reprs of
    equal inputs (an unordered query, another Python version) only cost a re-render.
    """
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def inputs_key(inputs: FeedInputs) -> tuple[object, ...]:
    """The parts of ``inputs`` that matter, in a canonical order, for :func:`digest_of`."""
    return (
        tuple(
            (
                s.id,
                s.name,
                s.time_zone,
                s.layer_names,
                s.escalation,
                s.pure.time_zone,
                s.pure.layers,
                tuple(sorted(s.pure.overrides, key=lambda o: o.id)),
            )
            for s in inputs.schedules
        ),
        tuple(sorted(inputs.names.items())),
    )


def _source(pure: values.SchedulePlan, layer_names: Sequence[str], shift: values.Shift) -> str:
    if shift.override_id is not None or shift.layer is None:
        return "override"
    if 0 <= shift.layer < len(layer_names):
        return f"layer {layer_names[shift.layer]}"
    return f"layer {shift.layer + 1}"


def _merge(sources: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(sources))


def whole_shifts(
    pure: values.SchedulePlan, layer_names: Sequence[str], since: datetime, until: datetime
) -> tuple[list[Piece], list[values.Gap]]:
    """Final shifts meeting ``[since, until)`` merged by person and whole, and the gaps."""
    try:
        result = timeline(pure, since, until, overflow=True)
    except values.ScheduleError as exc:
        raise Invalid("past_days", str(exc)) from exc
    pieces: list[Piece] = []
    for shift in result.final:
        source = _source(pure, layer_names, shift)
        last = pieces[-1] if pieces else None
        if last is not None and last.end == shift.start and last.user_id == shift.user_id:
            pieces[-1] = Piece(last.user_id, last.start, shift.end, _merge([*last.sources, source]))
        else:
            pieces.append(Piece(shift.user_id, shift.start, shift.end, (source,)))
    if pieces:
        pieces[0] = _extend(pure, layer_names, pieces[0], since, backwards=True)
        pieces[-1] = _extend(pure, layer_names, pieces[-1], until, backwards=False)
    return pieces, list(result.gaps)


def _extend(
    pure: values.SchedulePlan,
    layer_names: Sequence[str],
    piece: Piece,
    edge: datetime,
    *,
    backwards: bool,
) -> Piece:
    """Grow an edge piece over touching shifts of the same person from other sources.

    The overflow timeline returns edge pieces whole per source only; a person covered by a
    layer and then an override in a row is one calendar event.
    """
    limit = edge - EXTENT_CAP if backwards else edge + EXTENT_CAP
    for _ in range(_MAX_EXTEND):
        at = piece.start - _TICK if backwards else piece.end
        if (backwards and at < limit) or (not backwards and at >= limit):
            break
        try:
            if on_call_user(pure, at) != piece.user_id:  # a point lookup: cheap
                break
            found = on_call(pure, at)
        except values.ScheduleError:
            break
        if found is None or found.user_id != piece.user_id:
            break
        source = _source(pure, layer_names, found)
        if backwards and found.start < piece.start:
            piece = Piece(piece.user_id, found.start, piece.end, _merge([source, *piece.sources]))
        elif not backwards and found.end > piece.end:
            piece = Piece(piece.user_id, piece.start, found.end, _merge([*piece.sources, source]))
        else:
            break
    return piece


def _description(
    schedule: ScheduleInputs, sources: Sequence[str], link: str, person: str | None
) -> str:
    lines = [f"Schedule: {schedule.name}"]
    if person is None:
        lines.append("Nobody is on call: no layer or override covers this time.")
    else:
        lines.append(f"On call: {person}")
        lines.append("From: " + ", ".join(sources))
    served = ", ".join(schedule.escalation) if schedule.escalation else "none"
    lines.append(f"Escalation: {served}")
    lines.append(link)
    return "\n".join(lines)


def occurrences(
    inputs: FeedInputs,
    public_url: str,
    since: datetime,
    until: datetime,
    *,
    user_id: str | None = None,
    gaps: bool = False,
) -> list[Occurrence]:
    """The events of a feed over ``[since, until)``: every schedule's whole final shifts
    (only ``user_id``'s when given) and, with ``gaps``, its uncovered time."""
    out: list[Occurrence] = []
    for schedule in inputs.schedules:
        link = f"{public_url}/schedules/{schedule.id}"
        pieces, holes = whole_shifts(schedule.pure, schedule.layer_names, since, until)
        for piece in pieces:
            if user_id is not None and piece.user_id != user_id:
                continue
            person = inputs.names.get(piece.user_id, f"unknown user {piece.user_id}")
            out.append(
                Occurrence(
                    schedule_id=schedule.id,
                    user_id=piece.user_id,
                    start=piece.start,
                    end=piece.end,
                    summary=summary_for(person, schedule.name),
                    description=_description(schedule, piece.sources, link, person),
                )
            )
        for hole in holes if gaps else ():
            out.append(
                Occurrence(
                    schedule_id=schedule.id,
                    user_id=None,
                    start=hole.start,
                    end=hole.end,
                    summary=gap_summary_for(schedule.name),
                    description=_description(schedule, (), link, None),
                    is_gap=True,
                )
            )
    out = [o for o in out if o.end - o.start >= _SHORTEST]
    out.sort(key=lambda o: (o.start, o.schedule_id, o.user_id or ""))
    return out
