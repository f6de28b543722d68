"""The team lead's desk: schedules and their editor, covering shifts, escalation policies,
services, teams and people, the audit log. Registered with the other pages in
``web.pages.PAGES``."""

from __future__ import annotations

from types import ModuleType

from web.pages.desk import audit, policies, schedule_editor, schedules, services, shifts, teams

#: ``/schedules/new`` is declared before ``/schedules/{id}`` (the editor module first).
DESK_PAGES: tuple[ModuleType, ...] = (
    schedule_editor,
    schedules,
    shifts,
    policies,
    services,
    teams,
    audit,
)
