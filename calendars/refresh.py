"""Refreshing imported calendars on a timer: claim, fetch, apply (a unit-of-work runner).

Like the paging engine's loops, this opens its own short transactions and never holds one
across network I/O: (1) claim the imports that are due (``FOR UPDATE SKIP LOCKED`` plus a lease
in ``claimed_until``, so several engines never refresh one import at once); (2) fetch each URL
with httpx (a timeout, a size limit; http, https, and ``webcal://`` as subscription clients
fetch it, see :mod:`calendars.webcal`); (3) apply it in a new transaction
(:func:`calendars.imports.apply_calendar`). A crashed engine's claim
expires after :data:`LEASE`. The paging engine runs :func:`refresh_due` every minute, as a job
of its own, so a slow calendar server never delays a page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import version

import httpx
from sqlalchemy import or_, select

from calendars import webcal
from calendars.ics_import import MAX_IMPORT_BYTES, CalendarImportError
from calendars.imports import apply_calendar, record_failure
from calendars.models import CalendarImport
from store.db import Database
from store.errors import DomainError

__all__ = ["BATCH", "LEASE", "FetchError", "Fetcher", "fetch_calendar", "refresh_due"]

log = logging.getLogger("watchbill.calendars")

LEASE = timedelta(minutes=5)
BATCH = 20
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_REDIRECTS = 5


class FetchError(Exception):
    """The calendar could not be fetched; the message says why (stored in ``last_error``)."""


Fetcher = Callable[[str], bytes]


def fetch_calendar(url: str) -> bytes:
    """GET ``url`` (``webcal://`` as subscription clients do: https, else plain http where the
    server has no TLS; see :mod:`calendars.webcal`)."""
    try:
        candidates = webcal.subscription_urls(url)
    except webcal.UnsupportedUrl as exc:
        raise FetchError(str(exc)) from None
    for index, target in enumerate(candidates):
        try:
            return _get(url, target)
        except httpx.ConnectError as exc:
            if index + 1 < len(candidates) and webcal.speaks_no_tls(exc):
                log.info("calendar %s: no TLS at %s; trying %s", url, target, candidates[index + 1])
                continue
            raise FetchError(f"GET {url} failed: {exc}") from exc
    raise AssertionError("unreachable: subscription_urls gives at least one URL")


def _get(url: str, target: str) -> bytes:
    """GET ``target`` (following a few redirects) and return at most ``MAX_IMPORT_BYTES``;
    errors name ``url``, the URL the user gave."""
    headers = {"User-Agent": f"Watchbill/{version('watchbill')} (calendar import)"}
    try:
        with (
            httpx.Client(
                timeout=TIMEOUT, follow_redirects=True, max_redirects=MAX_REDIRECTS
            ) as client,
            client.stream("GET", target, headers=headers) as answer,
        ):
            if answer.status_code != 200:
                raise FetchError(f"GET {url} answered {answer.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise FetchError(f"GET {url}: more than {MAX_IMPORT_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.ConnectError:
        raise
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url} failed: {exc}") from exc


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
                error = f"not a usable calendar: {exc}"
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
