"""Refreshing imported calendars on a timer: claim, fetch, apply (a unit-of-work runner).

Like the paging engine's loops, this opens its own short transactions and never holds one
across network I/O: (1) claim the imports that are due (``FOR UPDATE SKIP LOCKED`` plus a lease
in ``claimed_until``, so several engines never refresh one import at once); (2) fetch each URL
through :mod:`store.outbound` (public addresses only unless ``WATCHBILL_ALLOW_PRIVATE_URLS``;
time and size capped; http, https, and ``webcal://`` as subscription clients fetch it, see
:mod:`calendars.webcal`); (3) apply it in a new transaction
(:func:`calendars.imports.apply_calendar`). A crashed engine's claim expires after
:data:`LEASE`. The paging engine runs :class:`RefreshJob` every minute, as a job of its own, so
a slow calendar server never delays a page (the app's wiring registers it: ``api.engine``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from importlib.metadata import version

import httpx
from sqlalchemy import or_, select

from calendars import webcal
from calendars.ics_import import MAX_IMPORT_BYTES, CalendarImportError
from calendars.imports import apply_calendar, record_failure
from calendars.models import CalendarImport
from store import outbound
from store.db import Database
from store.errors import DomainError, Invalid

__all__ = [
    "BATCH",
    "LEASE",
    "FetchError",
    "Fetcher",
    "RefreshJob",
    "calendar_fetcher",
    "fetch_calendar",
    "refresh_due",
]

log = logging.getLogger("watchbill.calendars")

LEASE = timedelta(minutes=5)
BATCH = 20
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class FetchError(Exception):
    """The calendar could not be fetched; the message says why (stored in ``last_error``)."""


Fetcher = Callable[[str], bytes]


def _looks_like_calendar(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper() == b"BEGIN:VCALENDAR"


def fetch_calendar(url: str, *, allow_private: bool = False) -> bytes:
    """GET ``url`` through :mod:`store.outbound` (public addresses only unless
    ``allow_private``; a few redirects, each checked; size and time capped); ``webcal://`` as
    subscription clients do: https, else plain http where the server has no TLS (see
    :mod:`calendars.webcal`). What fails is said (status, "not a calendar", a refused
    address); what the server sent never is."""
    try:
        candidates = webcal.subscription_urls(url)
    except webcal.UnsupportedUrl as exc:
        raise FetchError(str(exc)) from None
    for index, target in enumerate(candidates):
        try:
            return _get(url, target, allow_private)
        except outbound.FetchFailed as exc:
            if index + 1 < len(candidates) and webcal.speaks_no_tls(exc):
                log.info("calendar %s: no TLS at %s; trying %s", url, target, candidates[index + 1])
                continue
            raise FetchError(str(exc)) from exc
    raise AssertionError("unreachable: subscription_urls gives at least one URL")


def _get(url: str, target: str, allow_private: bool) -> bytes:
    """GET ``target``; errors name ``url``, the URL the user gave. A failure to connect or
    read is :class:`store.outbound.FetchFailed` (the caller may try the next candidate)."""
    headers = {
        "User-Agent": f"Watchbill/{version('watchbill')} (calendar import)",
        "Accept": "text/calendar, */*;q=0.5",
    }
    try:
        answer = outbound.get(
            target,
            allow_private=allow_private,
            max_bytes=MAX_IMPORT_BYTES,
            headers=headers,
            timeout=TIMEOUT,
        )
    except outbound.OutboundRefused as exc:
        raise FetchError(f"GET {url} refused: {exc}") from exc
    except Invalid as exc:
        raise FetchError(str(exc)) from exc
    if answer.status != 200:
        raise FetchError(f"GET {url} answered {answer.status}")
    if not _looks_like_calendar(answer.body):
        kind = answer.content_type or "untyped"
        raise FetchError(
            f"GET {url}: not a calendar (a {kind} answer of {len(answer.body)} bytes "
            "that is not iCalendar data)"
        )
    return answer.body


def calendar_fetcher(allow_private: bool) -> Fetcher:
    """The fetcher the engine uses (``WATCHBILL_ALLOW_PRIVATE_URLS``)."""
    return partial(fetch_calendar, allow_private=allow_private)


@dataclass(frozen=True, slots=True)
class _Job:
    id: str
    source_url: str | None
    content: str | None


def _claim(database: Database, now: datetime, limit: int) -> list[_Job]:
    with database.transaction() as session:
        due = session.scalars(
            select(CalendarImport)
            .where(
                CalendarImport.next_refresh_at <= now,
                or_(CalendarImport.claimed_until.is_(None), CalendarImport.claimed_until < now),
            )
            .order_by(CalendarImport.next_refresh_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for imp in due:
            imp.claimed_until = now + LEASE
        return [_Job(imp.id, imp.source_url, imp.content) for imp in due]


def _apply(
    database: Database, job: _Job, data: bytes | None, error: str | None, now: datetime
) -> None:
    with database.transaction() as session:
        imp = session.get(CalendarImport, job.id)
        if imp is None:
            return  # deleted meanwhile
        if data is not None:
            try:
                with session.begin_nested():
                    apply_calendar(session, imp, data, now)
                return
            except CalendarImportError as exc:
                # An upload's own text may be quoted back; fetched data never is.
                error = (
                    "not a usable calendar: the data at the URL is malformed iCalendar "
                    "(upload it as a file to see where)"
                    if job.source_url is not None
                    else f"not a usable calendar: {exc}"
                )
            except DomainError as exc:
                error = f"could not apply the calendar: {exc.detail}"
        record_failure(imp, error or "unknown error", now)


def refresh_due(
    database: Database,
    now: datetime,
    *,
    fetch: Fetcher = fetch_calendar,
    limit: int = BATCH,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Refresh every import that is due at ``now``; returns how many were refreshed.

    ``should_stop`` is checked between imports (a claimed import left over is retried once
    its lease expires)."""
    done = 0
    while not should_stop():
        jobs = _claim(database, now, limit)
        for job in jobs:
            if should_stop():
                return done
            data: bytes | None = None
            error: str | None = None
            if job.source_url is not None:
                try:
                    data = fetch(job.source_url)
                except FetchError as exc:
                    error = str(exc)
            else:
                data = (job.content or "").encode("utf-8")
            try:
                _apply(database, job, data, error, now)
            except Exception:  # one broken import must not stop the others
                log.exception("calendar import %s: refresh failed", job.id)
            done += 1
        if len(jobs) < limit:
            break
    return done


@dataclass(frozen=True)
class RefreshJob:
    """The engine's periodic job (``paging.engine.jobs.Periodic``, matched by shape: this
    package does not import ``paging``): refresh the imports due, fetching with the setting
    ``allow_private_urls`` as it is now (DNS answers are checked again at every fetch)."""

    allow_private_urls: bool
    name: str = "calendar-imports"
    every: timedelta = field(default=timedelta(seconds=60))

    def __call__(self, database: Database, now: datetime, should_stop: Callable[[], bool]) -> int:
        fetch = calendar_fetcher(self.allow_private_urls)
        return refresh_due(database, now, fetch=fetch, should_stop=should_stop)
