"""The server-rendered web UI: sessions, CSRF, pages, templates and static assets.

It calls the same domain services as ``api`` and holds no rule of its own. ``install(app)``
mounts it on the application (``api.app`` does, in one line). How to add a page: docs/web.md.
"""

from web.app import install

__all__ = ["install"]
