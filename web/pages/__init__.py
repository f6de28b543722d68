"""One route module per page (or small family of pages), registered here in one place.

Each module has ``router = APIRouter(route_class=WebRoute)`` and renders templates from
``web/templates/<module>/``.
"""

from __future__ import annotations

from types import ModuleType

from web.pages import home, incidents, links, login, profile, schedules, test_phone

PAGES: tuple[ModuleType, ...] = (login, home, incidents, links, profile, schedules, test_phone)
