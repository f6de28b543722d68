"""Times given on the command line and shown in tables, in the user's zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from api.cli.base import CliError
from people import validation


def zone_of(name: str | None) -> tzinfo | None:
    """The zone times are shown in: ``--time-zone`` (an IANA name) or None for this machine's."""
    if name is None:
        return None
    try:
        return ZoneInfo(validation.time_zone(name))
    except ValueError as exc:
        raise CliError(f"--time-zone: {exc}") from None


def parse_at(text: str | None, zone: tzinfo | None, now: datetime) -> datetime:
    """``--at``: ``now``, an RFC 3339 timestamp, or a local date and time in ``zone``
    (``2026-03-29 09:00``); a local time that does not exist there (a DST gap) is refused."""
    if text is None or text.strip().lower() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"--at: {text!r} is not a time; use e.g. 2026-03-29T09:00:00+02:00 or "
            "'2026-03-29 09:00' (in --time-zone, or this machine's zone)"
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    local = parsed.astimezone(zone) if zone is None else parsed.replace(tzinfo=zone)
    back = local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None)
    if back != parsed:
        raise CliError(f"--at: {text} does not exist in that time zone (the clocks skip it)")
    return local.astimezone(UTC)


def shown(at: datetime | None, zone: tzinfo | None) -> str:
    """``Sun 29 Mar 2026 09:00 BST`` in ``zone`` (None: this machine's zone)."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    return local.strftime("%a %d %b %Y %H:%M ") + (local.tzname() or "")
