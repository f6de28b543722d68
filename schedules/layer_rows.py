"""Layer rows edited with history: every change is a new version row in force from an instant.

The row side of :mod:`schedules.core.edits` (pure version edits) and :mod:`schedules.specs` (a
client's layer spec turned into a version): versions in force before the instant are never
touched; the ones :func:`schedules.core.edits.superseded` names are removed.  No queries; the
session-level operations are :mod:`schedules.layers` (one layer) and
:func:`schedules.service.update_schedule` (every layer at once, through :func:`apply_layers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules import rows
from schedules.core import edits
from schedules.core.values import LayerVersion
from schedules.models import Schedule, ScheduleLayer
from schedules.specs import LayerSpec, build_version, check_unique, edit_version, end_version
from store.audit import Actor
from store.errors import Invalid

__all__ = ["add_version", "apply_layers", "edit_layer", "end_layer_at", "new_layer"]


def new_layer(
    spec: LayerSpec, field: str, position: int, effective_from: datetime | None, actor: Actor
) -> ScheduleLayer:
    """A new layer row whose first version is in force from ``effective_from`` (None: always)."""
    version = build_version(spec, field, effective_from)
    return ScheduleLayer(
        name=spec.name, position=position, versions=[rows.version_row(version, actor.label)]
    )


def add_version(layer: ScheduleLayer, version: LayerVersion, actor: Actor) -> None:
    """Append ``version``, removing the rows :func:`schedules.core.edits.superseded` names."""
    since = version.effective_from
    assert since is not None
    for row in list(layer.versions):
        if edits.superseded(row.effective_from, since):
            layer.versions.remove(row)
    layer.versions.append(rows.version_row(version, actor.label))


def _current(layer: ScheduleLayer, at: datetime) -> LayerVersion | None:
    return edits.version_at(rows.layer_of(layer), at)


def edit_layer(
    layer: ScheduleLayer,
    spec: LayerSpec,
    field: str,
    at: datetime,
    tz: ZoneInfo,
    actor: Actor,
    *,
    keep_current: bool,
) -> None:
    """Make ``layer`` match ``spec`` from ``at`` (its name changes for all time)."""
    layer.name = spec.name
    current = _current(layer, at)
    if current is None:  # not in force yet: replace its scheduled versions
        version: LayerVersion | None = build_version(spec, field, at)
    else:
        version = edit_version(current, spec, field, at, tz, keep_current=keep_current)
    if version is not None:
        add_version(layer, version, actor)


def end_layer_at(
    session: Session, schedule: Schedule, layer: ScheduleLayer, at: datetime, actor: Actor
) -> None:
    """End ``layer`` at ``at``; a layer never in force before ``at`` is removed outright."""
    current = _current(layer, at)
    if current is None:
        schedule.layers.remove(layer)
        session.delete(layer)
        return
    version = end_version(current, at, f"layers.{layer.id}")
    if version is not None:
        add_version(layer, version, actor)


def _merged_order(
    old: list[ScheduleLayer], specs: Sequence[LayerSpec]
) -> list[tuple[ScheduleLayer | None, int | None]]:
    """(existing row | None, spec index | None) in the new order; omitted rows stay in place."""
    position = {row.id: i for i, row in enumerate(old)}
    listed = [s.id for s in specs if s.id is not None]
    if listed != sorted(listed, key=lambda x: position[x]):
        raise Invalid(
            "layers",
            "existing layers must keep their order (their precedence in the past is kept); "
            "end a layer and add a new one instead",
        )
    by_id = {row.id: row for row in old}
    omitted = [row for row in old if row.id not in set(listed)]
    out: list[tuple[ScheduleLayer | None, int | None]] = []
    for i, spec in enumerate(specs):
        if spec.id is not None:
            while omitted and position[omitted[0].id] < position[spec.id]:
                out.append((omitted.pop(0), None))
            out.append((by_id[spec.id], i))
        else:
            out.append((None, i))
    out.extend((row, None) for row in omitted)
    return out


def _live(layer: ScheduleLayer, at: datetime) -> bool:
    """True unless the layer has ended by ``at``."""
    current = _current(layer, at)
    return current is None or current.end is None or current.end > at


def _matched(old: list[ScheduleLayer], specs: Sequence[LayerSpec], at: datetime) -> list[LayerSpec]:
    """Specs without any ``id`` edit the layers still running at ``at``, by position."""
    if any(spec.id is not None for spec in specs):
        return list(specs)
    live = [row for row in old if _live(row, at)]
    return [replace(spec, id=live[i].id) if i < len(live) else spec for i, spec in enumerate(specs)]


def apply_layers(
    session: Session,
    actor: Actor,
    schedule: Schedule,
    specs: Sequence[LayerSpec],
    at: datetime,
    *,
    keep_current: bool,
) -> None:
    """Replace the schedule's layers with ``specs`` from ``at`` (see ``update_schedule``).

    When no spec names an ``id``, spec ``i`` is the ``i``-th layer still running at ``at``.
    """
    old = sorted(schedule.layers, key=lambda r: (r.position, r.id))
    known = {row.id for row in old}
    check_unique([s.id for s in specs], "layers")
    specs = _matched(old, specs, at)
    for i, spec in enumerate(specs):
        if spec.id is not None and spec.id not in known:
            raise Invalid(f"layers.{i}.id", f"no layer {spec.id!r} in this schedule")
    tz = ZoneInfo(schedule.time_zone)
    order = _merged_order(old, specs)
    kept: list[ScheduleLayer] = []
    for row, index in order:
        if index is None:
            assert row is not None
            end_layer_at(session, schedule, row, at, actor)
            if row in schedule.layers:
                kept.append(row)
            continue
        spec, field = specs[index], f"layers.{index}"
        if row is None:
            row = new_layer(spec, field, len(kept), at, actor)
            schedule.layers.append(row)
        else:
            edit_layer(row, spec, field, at, tz, actor, keep_current=keep_current)
        kept.append(row)
    for position, row in enumerate(kept):
        row.position = position
