"""One route module per page (or small family of pages), registered here in one place.

Each module has ``router = APIRouter(route_class=WebRoute)`` and renders templates from
``web/templates/<module>/``.
"""

from __future__ import annotations

from types import ModuleType

from web.pages import home, incidents, links, login, profile, test_phone
from web.pages.desk import DESK_PAGES

PAGES: tuple[ModuleType, ...] = (login, home, incidents, links, profile, test_phone, *DESK_PAGES)
