"""Routes of schedules: the schedules themselves, their layers and overrides, calendar feeds
out and calendar imports in."""
