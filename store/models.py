"""Every table's metadata, gathered for Alembic's autogenerate and for test set-up.

This is the one place the store floor looks upward: migrations must know every table.
"""

from __future__ import annotations

import calendars.models
import escalation.models
import paging.intake.models
import paging.link_models
import paging.models
import paging.twoway_models
import people.auth_models
import people.models
import schedules.models
import store.audit
from store.base import Base

metadata = Base.metadata

__all__ = ["calendars", "escalation", "metadata", "paging", "people", "schedules", "store"]
