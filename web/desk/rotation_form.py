"""The rotation editor's form: a draft of a schedule's layers in a person's words.

The draft travels in the form (no JavaScript needed): every button (add a person, move a
person or a layer, add a restriction row, preview) posts the whole form, the page applies the
button to the draft and shows it again. ``specs`` turns the draft into the same
:class:`~schedules.specs.LayerSpec` list the API builds from JSON, so creating, previewing and
saving go through the schedule services unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from people import validation
from schedules import rows
from schedules.core import edits, handoffs
from schedules.core.values import LayerVersion, ShiftUnit
from schedules.core.wallclock import to_instant
from schedules.models import Schedule
from schedules.specs import LayerSpec, RestrictionSpec
from web.deps import Fields
from web.desk.forms import DAYS, Problems, name, number, parse_date, parse_time, values

UNITS = ("hours", "days", "weeks")
MAX_LAYERS = 50
MAX_RESTRICTIONS = 50
MAX_LENGTH = 1000
PREVIEW_WEEKS = (1, 2, 4, 8)


@dataclass
class RestrictionDraft:
    days: list[str] = field(default_factory=lambda: list(DAYS[:5]))
    start: str = "09:00"
    end: str = "17:00"


@dataclass
class LayerDraft:
    name: str
    id: str | None = None
    users: list[str] = field(default_factory=list)
    length: str = "1"
    unit: str = "weeks"
    handoff_day: str = "mon"
    handoff_time: str = "09:00"
    start_date: str = ""
    start_time: str = "09:00"
    restrictions: list[RestrictionDraft] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.name or "New layer"


@dataclass
class ScheduleDraft:
    name: str
    time_zone: str
    team_id: str = ""
    layers: list[LayerDraft] = field(default_factory=list)
    keep_current: bool = True
    effective: str = "now"  # now | at
    effective_date: str = ""
    effective_time: str = ""
    weeks: int = 2

    def token(self, state: str) -> str:
        """What a preview was made of (this draft, the schedule as it was): Save checks it."""
        data = asdict(self)
        data.pop("weeks")
        body = json.dumps([data, state], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def blank(today: date, zone: str, team_id: str = "") -> ScheduleDraft:
    return ScheduleDraft(
        name="",
        time_zone=zone,
        team_id=team_id,
        layers=[LayerDraft(name="Layer 1", start_date=today.isoformat())],
        effective_date=today.isoformat(),
        effective_time="09:00",
    )


def new_layer(draft: ScheduleDraft, today: date) -> LayerDraft:
    return LayerDraft(name=f"Layer {len(draft.layers) + 1}", start_date=today.isoformat())


def _layer_draft(layer_id: str, name: str, version: LayerVersion, tz: ZoneInfo) -> LayerDraft:
    local = handoffs.describe(version, tz)
    return LayerDraft(
        name=name,
        id=layer_id,
        users=list(version.users),
        length=str(local.shift_length),
        unit=local.shift_unit,
        handoff_day=DAYS[local.handoff_weekday or 0],
        handoff_time=local.handoff_time.strftime("%H:%M"),
        start_date=local.start.date().isoformat(),
        start_time=local.start.strftime("%H:%M"),
        restrictions=[
            RestrictionDraft(
                days=[] if r.days is None else [DAYS[d] for d in sorted(r.days)],
                start=r.start.strftime("%H:%M"),
                end=r.end.strftime("%H:%M"),
            )
            for r in version.restrictions
        ],
    )


def versions_at(schedule: Schedule, at: datetime) -> dict[str, LayerVersion]:
    """Each layer's version in force at ``at`` (its first one if it starts later); ended
    layers are left out."""
    found: dict[str, LayerVersion] = {}
    for layer in rows.ordered_layers(schedule):
        model = rows.layer_of(layer)
        version = edits.version_at(model, at) or model.versions[0]
        if version.end is None or version.end > at:
            found[layer.id] = version
    return found


def from_schedule(schedule: Schedule, at: datetime) -> ScheduleDraft:
    """The draft of a schedule's running layers as they are at ``at``."""
    tz = ZoneInfo(schedule.time_zone)
    current = versions_at(schedule, at)
    local = at.astimezone(tz)
    return ScheduleDraft(
        name=schedule.name,
        time_zone=schedule.time_zone,
        team_id=schedule.team_id or "",
        layers=[
            _layer_draft(layer.id, layer.name, current[layer.id], tz)
            for layer in rows.ordered_layers(schedule)
            if layer.id in current
        ],
        effective_date=local.date().isoformat(),
        effective_time=local.strftime("%H:%M"),
    )


# --- reading the posted form -------------------------------------------------------------------


def _count(fields: Fields, key: str, limit: int) -> int:
    try:
        return max(0, min(int(fields.text(key, "0")), limit))
    except ValueError:
        return 0


def parse(fields: Fields) -> ScheduleDraft:
    layers: list[LayerDraft] = []
    for i in range(_count(fields, "layer_count", MAX_LAYERS)):
        p = f"layers-{i}-"
        restrictions = [
            RestrictionDraft(
                days=[d for d in values(fields, f"{p}r-{k}-days") if d in DAYS],
                start=fields.text(f"{p}r-{k}-start"),
                end=fields.text(f"{p}r-{k}-end"),
            )
            for k in range(_count(fields, f"{p}restriction_count", MAX_RESTRICTIONS))
        ]
        layers.append(
            LayerDraft(
                name=fields.text(p + "name"),
                id=fields.text(p + "id") or None,
                users=[u for u in values(fields, p + "users") if u],
                length=fields.text(p + "length"),
                unit=fields.text(p + "unit"),
                handoff_day=fields.text(p + "handoff_day"),
                handoff_time=fields.text(p + "handoff_time"),
                start_date=fields.text(p + "start_date"),
                start_time=fields.text(p + "start_time"),
                restrictions=restrictions,
            )
        )
    weeks = fields.text("weeks", "2")
    return ScheduleDraft(
        name=fields.text("name"),
        time_zone=fields.text("time_zone"),
        team_id=fields.text("team_id"),
        layers=layers,
        keep_current=fields.text("keep_current", "yes") != "no",
        effective="at" if fields.text("effective") == "at" else "now",
        effective_date=fields.text("effective_date"),
        effective_time=fields.text("effective_time"),
        weeks=int(weeks) if weeks.isdigit() and int(weeks) in PREVIEW_WEEKS else 2,
    )


# --- the editor's buttons ----------------------------------------------------------------------


def _swap(items: list[Any], i: int, j: int) -> None:
    if 0 <= i < len(items) and 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


def apply(
    draft: ScheduleDraft, op: str, args: list[int], fields: Fields, today: date
) -> str | None:
    """Apply an editor button to the draft; a message when it could not be done."""
    layers = draft.layers
    layer = layers[args[0]] if args and 0 <= args[0] < len(layers) else None
    if op == "add_layer":
        if len(layers) >= MAX_LAYERS:
            return f"A schedule has at most {MAX_LAYERS} layers."
        layers.append(new_layer(draft, today))
    elif op in ("layer_up", "layer_down") and layer is not None:
        _swap(layers, args[0], args[0] + (-1 if op == "layer_up" else 1))
    elif op == "remove_layer" and layer is not None:
        layers.remove(layer)
    elif op == "add_user" and layer is not None:
        chosen = fields.text(f"layers-{args[0]}-add_user")
        if not chosen:
            return "Pick a person to add first."
        layer.users.append(chosen)
    elif op in ("user_up", "user_down") and layer is not None and len(args) == 2:
        _swap(layer.users, args[1], args[1] + (-1 if op == "user_up" else 1))
    elif op == "remove_user" and layer is not None and len(args) == 2:
        del layer.users[max(args[1], 0) : max(args[1], 0) + 1]
    elif op == "add_restriction" and layer is not None:
        layer.restrictions.append(RestrictionDraft())
    elif op == "remove_restriction" and layer is not None and len(args) == 2:
        del layer.restrictions[max(args[1], 0) : max(args[1], 0) + 1]
    return None


# --- the draft as layer specs ------------------------------------------------------------------


def _restrictions(layer: LayerDraft, label: str, problems: Problems) -> tuple[RestrictionSpec, ...]:
    out: list[RestrictionSpec] = []
    for k, r in enumerate(layer.restrictions, start=1):
        where = f"{label}, restriction {k}"
        start = parse_time(r.start, f"{where} from", problems)
        end = parse_time(r.end, f"{where} to", problems)
        if start is not None and end is not None:
            out.append(RestrictionSpec(r.start, r.end, tuple(r.days) if r.days else None))
    return tuple(out)


def _layer_spec(
    layer: LayerDraft,
    label: str,
    tz: ZoneInfo,
    previous: LayerVersion | None,
    problems: Problems,
) -> LayerSpec | None:
    before = len(problems.messages)
    name(layer.name, f"{label} name", problems)
    length = number(layer.length, f"{label} shift length", problems, 1, MAX_LENGTH)
    if layer.unit not in UNITS:
        problems.add(f"{label}: shifts last hours, days or weeks.")
    if layer.unit == "weeks" and layer.handoff_day not in DAYS:
        problems.add(f"{label}: pick the handoff day.")
    handoff_time = parse_time(layer.handoff_time, f"{label} handoff time", problems)
    start_day = parse_date(layer.start_date, f"{label} start date", problems)
    start_time = parse_time(layer.start_time, f"{label} start time", problems)
    restrictions = _restrictions(layer, label, problems)
    if len(problems.messages) > before or handoff_time is None:
        return None
    assert start_day is not None and start_time is not None
    local = handoffs.LocalLayer(
        start=datetime.combine(start_day, start_time),
        shift_length=length,
        shift_unit=cast(ShiftUnit, layer.unit),
        handoff_time=handoff_time,
        handoff_weekday=DAYS.index(layer.handoff_day) if layer.handoff_day in DAYS else None,
    )
    start, rotation = handoffs.resolve(local, tz, previous)
    return LayerSpec(
        name=layer.name,
        start=start,
        users=tuple(layer.users),
        handoff=rotation.handoff,
        shift_length=rotation.shift_length,
        shift_unit=rotation.shift_unit,
        end=previous.end if previous is not None else None,
        restrictions=restrictions,
        id=layer.id,
    )


def zone_of(draft: ScheduleDraft, problems: Problems) -> str | None:
    try:
        return validation.time_zone(draft.time_zone)
    except ValueError as exc:
        problems.add(f"Time zone: {exc}.")
        return None


def specs(
    draft: ScheduleDraft, zone: str, previous: dict[str, LayerVersion], problems: Problems
) -> list[LayerSpec]:
    """The layers as specs (``previous``: versions being edited, by layer id)."""
    tz = ZoneInfo(zone)
    out: list[LayerSpec] = []
    for i, layer in enumerate(draft.layers, start=1):
        label = f"Layer {i}" + (f" ({layer.name})" if layer.name else "")
        spec = _layer_spec(layer, label, tz, previous.get(layer.id or ""), problems)
        if spec is not None:
            out.append(spec)
    return out


def effective_from(draft: ScheduleDraft, zone: str, problems: Problems) -> datetime | None:
    """None for "now"; else the instant typed in the schedule's zone."""
    if draft.effective != "at":
        return None
    day = parse_date(draft.effective_date, "Takes effect (date)", problems)
    clock = parse_time(draft.effective_time, "Takes effect (time)", problems)
    if day is None or clock is None:
        return None
    return to_instant(datetime.combine(day, clock), ZoneInfo(zone))


def humane(detail: str, draft: ScheduleDraft) -> str:
    """A service error naming ``layers.0.users`` says "Layer 1 (Primary) users" instead."""
    head, sep, rest = detail.partition(": ")
    parts = head.split(".")
    if sep and len(parts) >= 2 and parts[0] == "layers" and parts[1].isdigit():
        i = int(parts[1])
        name = draft.layers[i].name if i < len(draft.layers) else ""
        label = f"Layer {i + 1}" + (f" ({name})" if name else "")
        what = " ".join(p.replace("_", " ") for p in parts[2:] if not p.isdigit())
        return f"{label}{' ' + what if what else ''}: {rest}"
    return detail


def day_start(at: datetime, zone: str) -> datetime:
    """Local midnight (in ``zone``) of the day containing ``at``."""
    tz = ZoneInfo(zone)
    return to_instant(datetime.combine(at.astimezone(tz).date(), time()), tz)
