"""The API with a settable clock (``api``, ``clock``), as in ``tests/api/schedules``."""

from tests.api.schedules.conftest import api, clock

__all__ = ["api", "clock"]
