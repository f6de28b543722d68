"""The pure escalation step: where an incident's escalation goes next, and when.

Positions are (loop, tier). A new incident notifies tier 0 of loop 0 at once; after a tier's
``delay_seconds`` the next tier is notified; after the last tier the policy starts again at
tier 0 while ``repeat`` loops remain; after that, escalation is exhausted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: A step this late (engine down, say) is timed from when it ran, not from when it was due,
#: so that a restart does not fire a burst of tiers back to back.
CATCH_UP_LIMIT = timedelta(seconds=60)


@dataclass(frozen=True)
class Target:
    type: str  # "user" | "schedule"
    id: str


@dataclass(frozen=True)
class Tier:
    delay_seconds: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    tiers: tuple[Tier, ...]
    repeat: int = 0

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ValueError("a policy needs at least one tier")
        if self.repeat < 0:
            raise ValueError("repeat must be 0 or more")


@dataclass(frozen=True, order=True)
class Position:
    loop: int
    tier: int


START = Position(loop=0, tier=0)


def next_position(policy: Policy, at: Position) -> Position | None:
    """The position after ``at``; None once every loop has run."""
    if at.tier + 1 < len(policy.tiers):
        return Position(at.loop, at.tier + 1)
    if at.loop < policy.repeat:
        return Position(at.loop + 1, 0)
    return None


def due_after(policy: Policy, at: Position, notified_at: datetime) -> datetime:
    """When the step after ``at`` is due, given that ``at`` was notified at ``notified_at``."""
    return notified_at + timedelta(seconds=policy.tiers[at.tier].delay_seconds)


def step_base(due: datetime | None, now: datetime) -> datetime:
    """The instant a step counts as having happened: its due time, unless it ran very late."""
    if due is None or now - due > CATCH_UP_LIMIT or due > now:
        return now
    return due


def clamp(policy: Policy, at: Position) -> Position:
    """``at`` made valid for ``policy`` (after the policy was edited to fewer tiers/loops)."""
    tier = min(at.tier, len(policy.tiers) - 1)
    loop = min(at.loop, policy.repeat)
    return Position(loop, tier)
