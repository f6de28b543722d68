"""The API with a settable clock (``api``, ``clock``), as in ``tests/schedules_api``."""

from tests.schedules_api.conftest import api, clock

__all__ = ["api", "clock"]
