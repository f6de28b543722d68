"""The escalation policy editor's form: tiers of targets (people or schedules) and delays.

Like the rotation editor, the draft travels in the form and every button posts it back. It
becomes the :class:`~escalation.service.TierInput` list the API builds from JSON, and a
:class:`~escalation.step.Policy` for "who would be paged right now" while editing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from escalation import step
from escalation.models import EscalationPolicy, TargetType
from escalation.service import TierInput
from web.deps import Fields
from web.desk.forms import Problems, name, number, values

MAX_TIERS = 20
MAX_TARGETS = 50
MAX_REPEAT = 20


@dataclass
class TierDraft:
    minutes: str = "5"
    seconds: str = "0"
    targets: list[str] = field(default_factory=list)  # "user:<id>" | "schedule:<id>"


@dataclass
class PolicyDraft:
    name: str
    team_id: str = ""
    repeat: str = "0"
    tiers: list[TierDraft] = field(default_factory=lambda: [TierDraft()])


def of_policy(policy: EscalationPolicy) -> PolicyDraft:
    return PolicyDraft(
        name=policy.name,
        team_id=policy.team_id or "",
        repeat=str(policy.repeat),
        tiers=[
            TierDraft(
                minutes=str(tier.delay_seconds // 60),
                seconds=str(tier.delay_seconds % 60),
                targets=[f"{t.type.value}:{t.target_id}" for t in tier.targets],
            )
            for tier in policy.tiers
        ],
    )


def _count(fields: Fields, key: str, limit: int) -> int:
    try:
        return max(0, min(int(fields.text(key, "0")), limit))
    except ValueError:
        return 0


def parse(fields: Fields) -> PolicyDraft:
    tiers = [
        TierDraft(
            minutes=fields.text(f"tiers-{i}-minutes"),
            seconds=fields.text(f"tiers-{i}-seconds", "0") or "0",
            targets=[t for t in values(fields, f"tiers-{i}-targets") if _target(t) is not None],
        )
        for i in range(_count(fields, "tier_count", MAX_TIERS))
    ]
    return PolicyDraft(
        name=fields.text("name"),
        team_id=fields.text("team_id"),
        repeat=fields.text("repeat", "0"),
        tiers=tiers,
    )


def _swap(items: list[Any], i: int, j: int) -> None:
    if 0 <= i < len(items) and 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


def apply(draft: PolicyDraft, op: str, args: list[int], fields: Fields) -> str | None:
    """Apply an editor button; a message when it could not be done."""
    tiers = draft.tiers
    tier = tiers[args[0]] if args and 0 <= args[0] < len(tiers) else None
    if op == "add_tier":
        if len(tiers) >= MAX_TIERS:
            return f"A policy has at most {MAX_TIERS} levels."
        tiers.append(TierDraft())
    elif op in ("tier_up", "tier_down") and tier is not None:
        _swap(tiers, args[0], args[0] + (-1 if op == "tier_up" else 1))
    elif op == "remove_tier" and tier is not None:
        tiers.remove(tier)
    elif op == "add_target" and tier is not None:
        chosen = fields.text(f"tiers-{args[0]}-add_target")
        if _target(chosen) is None:
            return "Pick a person or a schedule to add first."
        if chosen not in tier.targets:
            tier.targets.append(chosen)
    elif op == "remove_target" and tier is not None and len(args) == 2:
        del tier.targets[max(args[1], 0) : max(args[1], 0) + 1]
    return None


def _target(value: str) -> tuple[TargetType, str] | None:
    kind, _, target_id = value.partition(":")
    if kind not in ("user", "schedule") or not target_id:
        return None
    return TargetType(kind), target_id


def tier_inputs(draft: PolicyDraft, problems: Problems) -> tuple[int, list[TierInput]]:
    """``repeat`` and the tiers, as the escalation service takes them."""
    name(draft.name, "Policy name", problems)
    repeat = number(draft.repeat or "0", "Repeat", problems, 0, MAX_REPEAT)
    tiers: list[TierInput] = []
    for i, tier in enumerate(draft.tiers, start=1):
        minutes = number(tier.minutes or "0", f"Level {i} minutes", problems, 0, 24 * 60)
        seconds = number(tier.seconds or "0", f"Level {i} seconds", problems, 0, 59)
        targets = [t for t in (_target(v) for v in tier.targets) if t is not None]
        tiers.append(TierInput(minutes * 60 + seconds, targets))
    return repeat, tiers


def step_policy(repeat: int, tiers: list[TierInput]) -> step.Policy | None:
    """The pure policy the engine steps through (None while it has no level)."""
    if not tiers:
        return None
    return step.Policy(
        tiers=tuple(
            step.Tier(t.delay_seconds, tuple(step.Target(k.value, i) for k, i in t.targets))
            for t in tiers
        ),
        repeat=max(repeat, 0),
    )


def humane(detail: str) -> str:
    """``tiers.0.targets`` reads "Level 1 targets"."""
    head, sep, rest = detail.partition(": ")
    parts = head.split(".")
    if sep and len(parts) >= 2 and parts[0] == "tiers" and parts[1].isdigit():
        what = " ".join(p.replace("_", " ") for p in parts[2:] if not p.isdigit())
        return f"Level {int(parts[1]) + 1}{' ' + what if what else ''}: {rest}"
    return detail
