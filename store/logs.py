"""Logging set-up: plain lines, or one JSON object per line (``WATCHBILL_LOG_FORMAT=json``).

Records carry the ids of what they are about (``incident_id``, ``notification_id``, ...)
either as ``extra=`` of the call or from :func:`context`, which tags every record logged in
its block (by any module, in this thread or task). JSON lines hold them as fields; plain
lines end with them as ``key=value``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(ids)s"
#: The ids a record may carry, in the order plain lines show them.
ID_FIELDS = ("incident_id", "incident_ids", "notification_id", "service_id", "user_id")

_context: ContextVar[dict[str, Any] | None] = ContextVar("watchbill_log_context", default=None)


@contextmanager
def context(**ids: Any) -> Iterator[None]:
    """Tag every record logged inside the block with ``ids`` (None values are left out)."""
    current = _context.get() or {}
    token = _context.set({**current, **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    """Copies :func:`context`'s ids onto each record and renders the plain-text suffix."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        shown = [f"{key}={getattr(record, key)}" for key in ID_FIELDS if hasattr(record, key)]
        record.ids = (" " + " ".join(shown)) if shown else ""
        return True


def formatter(kind: Literal["text", "json"]) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            reserved_attrs=[*RESERVED_ATTRS, "taskName", "ids", "color_message"],
            timestamp="time",
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(kind: Literal["text", "json"] = "text", level: int = logging.WARNING) -> None:
    """One handler on the root logger, writing to stderr in ``kind``; uvicorn's loggers
    propagate to it (run uvicorn with ``log_config=None``)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_watchbill", False):
            root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler._watchbill = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(kind))
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
