"""Storm throttling for one contact method (pure).

Rules, for each contact method (one phone number, one address):

1. At most ``burst`` messages (individual pages *and* bundles) in any
   ``window`` (interval ``(t - window, t]``).  Default: 3 per 30 s.
2. While the allowance ``a = burst - (messages in the window)`` covers every
   pending page, each goes out now on its own: a lone page on a quiet contact
   method is never delayed.
3. If more pages are pending than the allowance, nothing is delayed either:
   the first ``a - 1`` go individually and the rest go now as one bundle,
   using the last slot.  That bundle is a *storm* message.
4. When the allowance is used up (``a == 0``) the pages are held, all of
   them, until the later of the moment a slot frees up and ``bundle_interval``
   after the latest message.  Held pages are in a storm.
5. In a storm (pages are held, or a storm message went out less than
   ``bundle_interval`` ago) an address gets at most one message per
   ``bundle_interval``, whatever the window: everything pending goes as one
   message once ``bundle_interval`` has passed since the latest message (and
   rule 1 has a slot), and waits until then otherwise.  So the end of a
   deferral is one message, never a burst.  A storm ends when the address has
   had no storm message for a bundle interval and nothing is held.
6. ``one_at_a_time`` (calls: a phone takes one call at a time): everything
   pending goes in one message; and while ``busy_until`` is set (a call to the
   number is in progress) everything waits for its outcome.

So during a storm the phone gets at most ``burst`` messages per window and,
after that first burst, at most one message per ``bundle_interval``; a held
page waits at most ``max(window, bundle_interval)``.

No page is ever dropped: every pending page is in exactly one of
``send_now``, ``bundle`` or ``deferred``.  Pending pages come oldest first
(by when their incident paged, then incident number); groups keep that order.
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
    "Sent",
    "plan_delivery",
]

DEFAULT_BURST = 3
DEFAULT_WINDOW = timedelta(seconds=30)
DEFAULT_BUNDLE_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class PendingPage:
    id: int | str
    incident_number: int
    held: bool = False  # held back by storm throttling already: the storm goes on


@dataclass(frozen=True)
class Sent:
    """A message that went to the address (a bundle counts once)."""

    at: datetime
    storm: bool = False  # a bundle or a release of held pages (rules 3-5)


@dataclass(frozen=True)
class Plan:
    send_now: tuple[PendingPage, ...]  # each as its own message, now
    bundle: tuple[PendingPage, ...]  # together as one message, now (empty or >= 2)
    deferred: tuple[PendingPage, ...]  # wait; re-plan at ``defer_until``
    defer_until: datetime | None  # set iff ``deferred`` is not empty
    #: The bundle (else the one page sent now) is a storm message, or the deferred pages
    #: are held by the storm (not by a call in progress).
    storm: bool = False

    @property
    def messages_now(self) -> int:
        return len(self.send_now) + (1 if self.bundle else 0)


def _together(pages: tuple[PendingPage, ...], storm: bool) -> Plan:
    """Everything pending as one message now."""
    if len(pages) == 1:
        return Plan(send_now=pages, bundle=(), deferred=(), defer_until=None, storm=storm)
    return Plan(send_now=(), bundle=pages, deferred=(), defer_until=None, storm=storm)


def _wait(pages: tuple[PendingPage, ...], until: datetime, storm: bool) -> Plan:
    return Plan(send_now=(), bundle=(), deferred=pages, defer_until=until, storm=storm)


def plan_delivery(
    recent: Sequence[datetime | Sent],
    pending: Sequence[PendingPage],
    now: datetime,
    burst: int = DEFAULT_BURST,
    window: timedelta = DEFAULT_WINDOW,
    bundle_interval: timedelta = DEFAULT_BUNDLE_INTERVAL,
    *,
    one_at_a_time: bool = False,
    busy_until: datetime | None = None,
) -> Plan:
    """Decide what to send now to one contact method (see module docstring).

    ``recent``: messages (pages or bundles) sent to this contact method, as far back as
    ``max(window, bundle_interval)``; later-than-``now`` ones (clock skew) count as recent.
    ``pending`` is in priority order (oldest first). All datetimes must be of the same kind
    (all aware or all naive).
    """
    if burst < 1:
        raise ValueError("burst must be at least 1")
    if window <= timedelta(0) or bundle_interval < timedelta(0):
        raise ValueError("window must be positive and bundle_interval not negative")
    ids = [p.id for p in pending]
    if len(set(ids)) != len(ids):
        raise ValueError("pending page ids must be unique")
    pages = tuple(pending)
    if not pages:
        return Plan(send_now=(), bundle=(), deferred=(), defer_until=None)
    if busy_until is not None:
        return _wait(pages, busy_until, storm=False)

    sent = sorted((r if isinstance(r, Sent) else Sent(r) for r in recent), key=lambda s: s.at)
    latest = sent[-1].at if sent else None
    in_window = [s.at for s in sent if s.at > now - window]
    allowance = max(0, burst - len(in_window))
    # When the next message may go: a slot free in the window (the oldest
    # len(in_window) - burst + 1 messages have left it) and a bundle interval after the latest.
    ready = now
    if allowance == 0:
        ready = max(ready, in_window[len(in_window) - burst] + window)
    storm = any(p.held for p in pages) or any(
        s.storm and s.at > now - bundle_interval for s in sent
    )
    if storm or allowance == 0:
        assert latest is not None or allowance > 0
        if latest is not None:
            ready = max(ready, latest + bundle_interval)
        if ready <= now:
            return _together(pages, storm=True)
        return _wait(pages, ready, storm=True)
    if one_at_a_time:
        return _together(pages, storm=len(pages) > allowance)
    if len(pages) <= allowance:
        return Plan(send_now=pages, bundle=(), deferred=(), defer_until=None)
    split = allowance - 1
    return Plan(
        send_now=pages[:split], bundle=pages[split:], deferred=(), defer_until=None, storm=True
    )
