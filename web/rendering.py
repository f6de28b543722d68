"""Jinja2 templates (``web/templates``), autoescaped, with filters for times and statuses."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

#: Incident statuses and severities as words and CSS classes (colour is never the only cue).
STATUS_LABELS = {"triggered": "Triggered", "acknowledged": "Acknowledged", "resolved": "Resolved"}


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(value: datetime | None, zone: str = "UTC", style: str = "long") -> str:
    """An instant on the wall clock of ``zone``: ``Sat 6 Dec 14:05 CET`` (``short``: no day)."""
    if value is None:
        return ""
    here = value.astimezone(_zone(zone))
    if style == "time":
        return here.strftime("%H:%M %Z")
    if style == "short":
        return here.strftime("%-d %b %H:%M")
    return here.strftime("%a %-d %b %H:%M %Z")


def duration(seconds: float | int | None) -> str:
    """``45 s``, ``5 min``, ``1 h 30 min``, ``2 d 4 h``."""
    if seconds is None:
        return ""
    total = int(seconds)
    if total < 60:
        return f"{total} s"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def minutes(seconds: int) -> str:
    """Seconds as minutes for a form field: ``90`` → ``1.5``, ``600`` → ``10``."""
    return f"{seconds / 60:g}"


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escaped text whose http(s) URLs are links (messages on the test phone)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))  # noqa: S704


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["local"] = local_time
    env.filters["duration"] = duration
    env.filters["linkify"] = linkify
    env.filters["minutes"] = minutes
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    return env


def render_template(name: str, context: dict[str, object]) -> str:
    return environment().get_template(name).render(context)
