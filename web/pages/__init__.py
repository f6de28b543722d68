"""One route module per page (or small family of pages), registered here in one place.

Each module has ``router = APIRouter(route_class=WebRoute)`` and renders templates from
``web/templates/<module>/``.
"""

from __future__ import annotations

from types import ModuleType

from web.pages import home, login

PAGES: tuple[ModuleType, ...] = (login, home)
