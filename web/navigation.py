"""The main menu: one entry per top-level page, shown to whoever may use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from web.deps import Page


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    shown: Callable[[Page], bool] = lambda page: True

    def current(self, path: str) -> bool:
        return path == self.href if self.href == "/" else path.startswith(self.href)


def test_phone_available(page: Page) -> bool:
    """The test phone is for admins, and only while a provider is not configured."""
    from paging.providers.log import test_phone

    return page.is_admin and test_phone.enabled(page.settings)


#: Issue-by-issue pages add themselves here (label, path, who sees it).
NAV: list[NavItem] = [
    NavItem("On call", "/"),
    NavItem("Incidents", "/incidents"),
    NavItem("Profile", "/profile"),
    NavItem("Test phone", "/test-phone", test_phone_available),
    # The team lead's desk (web/pages/desk/).
    NavItem("Schedules", "/schedules"),
    NavItem("Policies", "/policies"),
    NavItem("Services", "/services"),
    NavItem("Teams", "/teams"),
    NavItem("People", "/people", lambda page: page.is_admin),
    NavItem("Audit log", "/audit", lambda page: page.is_admin),
]


def menu(page: Page) -> list[NavItem]:
    return [item for item in NAV if item.shown(page)]
