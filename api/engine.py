"""The paging engine as the service runs it: its channels and decorators, and the periodic
jobs of packages ``paging`` may not import (calendar imports), registered here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from calendars.refresh import RefreshJob
from paging.engine.loop import Engine
from paging.providers.registry import build_channels, build_decorators
from store.base import utcnow
from store.db import Database
from store.settings import Settings


def build_engine(
    database: Database,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> Engine:
    """The engine with every job: paging's own (``paging.engine.registry``) and these."""
    return Engine(
        database,
        settings,
        channels=build_channels(database, settings),
        decorators=build_decorators(settings),
        periodic=[RefreshJob(allow_private_urls=settings.allow_private_urls)],
        clock=clock,
    )
