"""Storm throttling for one contact method (pure).

Rules, for each contact method (one phone number, one address):

1. At most ``burst`` messages (individual pages *and* bundles) in any
   ``window`` (interval ``(t - window, t]``).  Default: 3 per 30 s.
2. While the allowance ``a = burst - (messages in the window)`` covers every
   pending page, each goes out now on its own: a lone page on a quiet contact
   method is never delayed.
3. If more pages are pending than the allowance, nothing is delayed either:
   the first ``a - 1`` go individually and the rest go now as one bundle,
   using the last slot.
4. Only when the allowance is used up (``a == 0``) are pages deferred, all of
   them, to ``defer_until``: the later of the moment a slot frees up and
   ``bundle_interval`` after the latest message.  The caller re-plans then;
   a backlog of two or more that exceeds the allowance goes as a bundle.

So during a storm the phone gets at most ``burst`` messages per window and,
once the burst is spent, at most one message per ``bundle_interval``; a
deferred page waits at most ``max(window, bundle_interval)``.

No page is ever dropped: every pending page is in exactly one of
``send_now``, ``bundle`` or ``deferred``.  If the bundle text cannot list
every bundled incident (``sms_text.compose_bundle`` returns ``remaining``),
put the rest back into the pending queue so they count against the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "DEFAULT_BUNDLE_INTERVAL",
    "DEFAULT_BURST",
    "DEFAULT_WINDOW",
    "PendingPage",
    "Plan",
    "plan_delivery",
]

DEFAULT_BURST = 3
DEFAULT_WINDOW = timedelta(seconds=30)
DEFAULT_BUNDLE_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class PendingPage:
    id: int | str
    incident_number: int


@dataclass(frozen=True)
class Plan:
    send_now: tuple[PendingPage, ...]  # each as its own message, now
    bundle: tuple[PendingPage, ...]  # together as one message, now (empty or >= 2)
    deferred: tuple[PendingPage, ...]  # wait; re-plan at ``defer_until``
    defer_until: datetime | None  # set iff ``deferred`` is not empty

    @property
    def messages_now(self) -> int:
        return len(self.send_now) + (1 if self.bundle else 0)


def plan_delivery(
    recent_send_times: Sequence[datetime],
    pending: Sequence[PendingPage],
    now: datetime,
    burst: int = DEFAULT_BURST,
    window: timedelta = DEFAULT_WINDOW,
    bundle_interval: timedelta = DEFAULT_BUNDLE_INTERVAL,
) -> Plan:
    """Decide what to send now to one contact method (see module docstring).

    ``recent_send_times``: when messages (pages or bundles) were sent to this
    contact method; older entries are ignored, later-than-``now`` ones (clock
    skew) count as recent.  ``pending`` is in priority order (oldest first).
    All datetimes must be of the same kind (all aware or all naive).
    """
    if burst < 1:
        raise ValueError("burst must be at least 1")
    if window <= timedelta(0) or bundle_interval < timedelta(0):
        raise ValueError("window must be positive and bundle_interval not negative")
    ids = [p.id for p in pending]
    if len(set(ids)) != len(ids):
        raise ValueError("pending page ids must be unique")

    pages = tuple(pending)
    recent = sorted(t for t in recent_send_times if t > now - window)
    allowance = max(0, burst - len(recent))
    if len(pages) <= allowance:
        return Plan(send_now=pages, bundle=(), deferred=(), defer_until=None)
    if allowance >= 1:
        split = allowance - 1
        return Plan(send_now=pages[:split], bundle=pages[split:], deferred=(), defer_until=None)
    # Allowance used up: the window holds >= burst messages.  A slot frees when
    # the oldest len(recent) - burst + 1 of them have left the window.
    slot_free = recent[len(recent) - burst] + window
    defer_until = max(slot_free, recent[-1] + bundle_interval)
    return Plan(send_now=(), bundle=(), deferred=pages, defer_until=defer_until)
