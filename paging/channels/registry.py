"""Which channel delivers each contact type, from the settings."""

from __future__ import annotations

from paging.channels.base import Channel
from store.db import Database
from store.settings import Settings


def build_channels(database: Database, settings: Settings) -> dict[str, Channel]:
    """Configured providers by contact type; a type left out goes to the log channel."""
    channels: dict[str, Channel] = {}
    return channels
