"""Every table's metadata, gathered for Alembic's autogenerate and for test set-up.

Migrations must know every table, so this module (with the rest of ``store.migrations``) is
the one place under ``store`` that imports the domain packages above it; the rest of the
store floor imports nothing above it (``tests/test_architecture.py`` checks).
"""

from __future__ import annotations

import calendars.models
import escalation.models
import paging.intake.models
import paging.outbox.models
import paging.providers.twilio.models
import paging.server_secret
import people.auth_models
import people.models
import schedules.models
import store.audit
from store.base import Base

metadata = Base.metadata

__all__ = ["calendars", "escalation", "metadata", "paging", "people", "schedules", "store"]
