"""One route module per page (or small family of pages), registered here in one place.

Each module has ``router = APIRouter(route_class=WebRoute)`` and renders templates from
``web/templates/<module>/``.
"""

from __future__ import annotations

from types import ModuleType

from web.pages import home, login
from web.pages.desk import DESK_PAGES

PAGES: tuple[ModuleType, ...] = (login, home, *DESK_PAGES)
