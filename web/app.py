"""Mount the web UI on an application: its pages (one route module each) and its assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web.pages import PAGES

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Add every page's routes and serve ``/static`` (CSS, JS, icons: nothing from a CDN)."""
    for module in PAGES:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
