"""Calendar feeds from the database: resolve a feed token, build, cache and answer (never commits).

The window is whole UTC days (``past_days`` before today's midnight to ``future_days`` after
it), so an unchanged feed gives the same bytes all day: DTSTAMP is the newest LAST-MODIFIED in
the feed, not the request time.

Answering, cheapest first (``calendar_feed_renders`` remembers the last answer per feed and
option set: digest, stamp, strong ETag and when that ETag last changed = ``Last-Modified``):

1. stamp: a digest of the ``calendar_changes`` counters (one bumped in the same transaction
   by any change to schedules, layers, overrides, users or escalation policies; one by any
   change to this feed's UID/SEQUENCE rows), the window and the options. Read in one query
   with the remembered answer; if it matches, nothing a feed is made of has changed: the ETag
   is known, a conditional request gets its 304 and a plain one its body from memory.
2. digest: every input read and hashed (the schedules in their pure form, names, escalation
   levels, window, options, the rows' counter). The first counter is global, so an edit
   elsewhere lands here; a matching digest proves this feed unchanged without building it.
3. build: timeline, UID/SEQUENCE rows (:mod:`calendars.state`), render, ETag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from calendars import cache
from calendars.feeds import (
    FEED_VERSION,
    digest_of,
    inputs_key,
    load_inputs,
    occurrences,
    uid_namespace,
)
from calendars.render import MAX_ALARM_MINUTES, FeedMeta, etag_for, render_feed
from calendars.state import sync_events
from people.models import User
from schedules import queries
from schedules import service as schedules
from schedules.models import Schedule, ScheduleLayer
from store.errors import Conflict, Invalid, NotFound
from store.settings import Settings

__all__ = [
    "MAX_DAYS",
    "Conditions",
    "Feed",
    "FeedAnswer",
    "FeedOptions",
    "answer_feed",
    "body_cache_clear",
    "schedule_feed",
    "user_feed",
]

#: Longest window a feed may cover (``past_days + future_days``).
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """Query options of a feed; :meth:`check` raises :class:`Invalid` (422) naming the field."""

    past_days: int = 30
    future_days: int = 180
    alarm_minutes: int | None = None
    gaps: bool = False

    def check(self, *, gaps_allowed: bool) -> None:
        if not 0 <= self.past_days <= MAX_DAYS:
            raise Invalid("past_days", f"must be between 0 and {MAX_DAYS}")
        if not 1 <= self.future_days <= MAX_DAYS:
            raise Invalid("future_days", f"must be between 1 and {MAX_DAYS}")
        if self.past_days + self.future_days > MAX_DAYS:
            raise Invalid("future_days", f"past_days + future_days must be at most {MAX_DAYS}")
        alarm = self.alarm_minutes
        if alarm is not None and not 0 <= alarm <= MAX_ALARM_MINUTES:
            raise Invalid("alarm_minutes", f"must be between 0 and {MAX_ALARM_MINUTES}")
        if self.gaps and not gaps_allowed:
            raise Invalid("gaps", "coverage gaps are shown in schedule feeds only")

    @property
    def variant(self) -> str:
        alarm = "-" if self.alarm_minutes is None else str(self.alarm_minutes)
        return f"p{self.past_days}.f{self.future_days}.a{alarm}.g{int(self.gaps)}"

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=self.past_days), today + timedelta(days=self.future_days)


@dataclass(frozen=True, slots=True)
class Feed:
    """A resolved feed: one schedule's shifts, or one user's shifts in every schedule."""

    key: str
    name: str
    time_zone: str
    page_url: str
    created_at: datetime
    schedule_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Conditions:
    """A request's validators: ``If-None-Match`` entity tags (weak prefix removed; ``*``
    allowed) and ``If-Modified-Since`` (ignored when ``If-None-Match`` is present)."""

    if_none_match: tuple[str, ...] = ()
    if_modified_since: datetime | None = None

    def fresh(self, etag: str, last_modified: datetime) -> bool:
        if self.if_none_match:
            return "*" in self.if_none_match or etag in self.if_none_match
        if self.if_modified_since is not None:
            return last_modified.replace(microsecond=0) <= self.if_modified_since
        return False


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """``body`` is None when the client's copy is current (answer 304)."""

    etag: str
    last_modified: datetime
    body: bytes | None


def schedule_feed(session: Session, settings: Settings, token: str) -> Feed:
    """The feed of the schedule whose calendar token is ``token`` (404 otherwise)."""
    schedule = schedules.schedule_by_feed_token(session, token)
    if schedule is None:
        raise NotFound("no calendar feed at this address (the link may have been replaced)")
    return Feed(
        key=f"schedule:{schedule.id}",
        name=schedule.name,
        time_zone=schedule.time_zone,
        page_url=f"{settings.public_url}/schedules/{schedule.id}",
        created_at=schedule.created_at,
        schedule_id=schedule.id,
    )


def user_feed(session: Session, settings: Settings, token: str) -> Feed:
    """The feed of the user whose calendar token is ``token``: their shifts everywhere. A
    deactivated user's feed address stops working, like their API tokens."""
    user = session.scalar(select(User).where(User.ical_token == token)) if token else None
    if user is None or user.deactivated_at is not None:
        raise NotFound("no calendar feed at this address (the link may have been replaced)")
    return Feed(
        key=f"user:{user.id}",
        name=f"On call: {user.name}",
        time_zone=user.time_zone,
        page_url=f"{settings.public_url}/profile",
        created_at=user.created_at,
        user_id=user.id,
    )


def _schedules_of(session: Session, feed: Feed) -> list[Schedule]:
    """The schedules the feed shows, with layers and versions loaded up front."""
    if feed.schedule_id is not None:
        ids = [feed.schedule_id]
    else:
        assert feed.user_id is not None
        ids = queries.schedule_ids_for_user(session, feed.user_id)
    if not ids:
        return []
    found = session.scalars(
        select(Schedule)
        .where(Schedule.id.in_(ids))
        .options(selectinload(Schedule.layers).selectinload(ScheduleLayer.versions))
    ).all()
    return sorted(found, key=lambda s: (s.name, s.id))


def body_cache_clear() -> None:
    """Forget every cached body (benchmarks and tests measure cold renders with it)."""
    cache.bodies.clear()


def _digest(feed: Feed, settings: Settings, options: FeedOptions, *parts: object) -> str:
    return digest_of(
        FEED_VERSION,
        feed.key,
        feed.name,
        feed.time_zone,
        settings.public_url,
        options.variant,
        *parts,
    )


def answer_feed(
    session: Session,
    settings: Settings,
    feed: Feed,
    options: FeedOptions,
    now: datetime,
    conditions: Conditions = Conditions(),
) -> FeedAnswer:
    """The feed's answer: 304-style (``body=None``) when ``conditions`` say the client's copy
    is current, else the body. Builds and renders only when an input changed."""
    options.check(gaps_allowed=feed.user_id is None)
    since, until = options.window(now)
    known = cache.validators(session, feed.key, options.variant)
    stamp = _digest(feed, settings, options, since, until, known.inputs, known.rows)
    last = known.last
    if last is not None and last.stamp == stamp:
        answer = _known(last, conditions)
        if answer is not None:
            return answer
    inputs = load_inputs(session, _schedules_of(session, feed), since, until)
    digest = _digest(feed, settings, options, since, until, inputs_key(inputs), known.rows)
    if last is not None and last.digest == digest:
        answer = _known(last, conditions)
        if answer is not None:
            if last.stamp != stamp:
                cache.remember(session, feed.key, options.variant, digest, stamp, last.etag,
                               last.changed_at)  # fmt: skip
            return answer
    occs = occurrences(
        inputs, settings.public_url, since, until, user_id=feed.user_id, gaps=options.gaps
    )
    namespace = uid_namespace(settings.public_url)
    for attempt in range(2):
        try:
            with session.begin_nested():
                events = sync_events(session, feed.key, namespace, occs, now)
            break
        except IntegrityError as exc:  # another request stored the same new rows first
            if attempt:
                raise Conflict("the feed is being updated by another request; retry") from exc
    dtstamp = max((e.last_modified for e in events), default=feed.created_at)
    meta = FeedMeta(name=feed.name, time_zone=feed.time_zone, url=feed.page_url)
    body = render_feed(meta, events, dtstamp, options.alarm_minutes)
    etag = etag_for(body)
    rows = cache.validators(session, feed.key, options.variant).rows  # after this sync
    digest = _digest(feed, settings, options, since, until, inputs_key(inputs), rows)
    stamp = _digest(feed, settings, options, since, until, known.inputs, rows)
    changed = now if last is None or last.etag != etag else last.changed_at
    cache.remember(session, feed.key, options.variant, digest, stamp, etag, changed)
    cache.bodies.put(etag, body)
    if conditions.fresh(etag, changed):
        return FeedAnswer(etag, changed, None)
    return FeedAnswer(etag, changed, body)


def _known(last: cache.Remembered, conditions: Conditions) -> FeedAnswer | None:
    """The remembered answer, if the client holds it or its body is still in memory."""
    if conditions.fresh(last.etag, last.changed_at):
        return FeedAnswer(last.etag, last.changed_at, None)
    body = cache.bodies.get(last.etag)
    return None if body is None else FeedAnswer(last.etag, last.changed_at, body)
