"""An incident's details (the JSON a monitoring tool sent) as readable text (pure).

Events carry their context as nested JSON: PagerDuty's ``source``, ``component`` and
``custom_details``, Alertmanager's labels, annotations and alerts. A responder reading a page
wants it as lines, not as a JSON dump::

    source: db-1.example
    custom_details:
      free_space: 2%
      mount: /var
    links:
      - Runbook <https://runbooks.example/disk>

Keys keep the order the sender gave them; long text is cut at ``limit`` characters, with a
last line saying so (the incident in the API has everything).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CUT_NOTE", "DEFAULT_LIMIT", "render_details"]

DEFAULT_LIMIT = 4000
CUT_NOTE = "… (cut here; the incident has the rest)"
_INDENT = "  "


def render_details(details: Mapping[str, Any] | None, limit: int = DEFAULT_LIMIT) -> str:
    """``details`` as indented ``key: value`` lines, at most about ``limit`` characters."""
    if not details:
        return ""
    lines: list[str] = []
    _mapping(details, 0, lines)
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            out.append(CUT_NOTE)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_link(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("href"), str)


def _link(value: Mapping[str, Any]) -> str:
    label = value.get("text") or value.get("alt")
    return f"{label} <{value['href']}>" if label else f"<{value['href']}>"


def _mapping(value: Mapping[str, Any], depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    for key, item in value.items():
        if _is_link(item):
            lines.append(f"{pad}{key}: {_link(item)}")
        elif isinstance(item, Mapping | list):
            nested = _nested(item, depth + 1)
            if nested:  # a key with nothing under it is left out
                lines.append(f"{pad}{key}:")
                lines.extend(nested)
        else:
            _text(f"{pad}{key}: ", _scalar(item), pad + _INDENT, lines)


def _nested(value: Mapping[str, Any] | list[Any], depth: int) -> list[str]:
    lines: list[str] = []
    if isinstance(value, Mapping):
        _mapping(value, depth, lines)
    else:
        _sequence(value, depth, lines)
    return lines


def _sequence(value: list[Any], depth: int, lines: list[str]) -> None:
    pad = _INDENT * depth
    for item in value:
        if _is_link(item):
            lines.append(f"{pad}- {_link(item)}")
        elif isinstance(item, Mapping | list):
            nested = _nested(item, depth + 1)
            if nested:  # "- first: x", the rest under it (YAML's shape)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
        else:
            _text(f"{pad}- ", _scalar(item), pad + _INDENT, lines)


def _text(prefix: str, text: str, pad: str, lines: list[str]) -> None:
    """A value on its key's line; a multi-line one continues indented below it."""
    first, *rest = text.splitlines() or [""]
    lines.append(f"{prefix}{first}".rstrip())
    lines.extend(f"{pad}{line}".rstrip() for line in rest)
