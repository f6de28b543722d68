"""Every job the engine runs, one line each, in the order they run when several are due.

A job is declared by the room that owns its work; adding a timer is a module there and a line
here. Periodic work of packages below ``paging`` (calendar imports) is registered by the app's
wiring instead (``api.engine``): ``paging`` does not import them.
"""

from __future__ import annotations

from paging.engine.jobs import Job, Sends
from paging.intake import jobs as intake
from paging.outbox import jobs as outbox
from paging.response import jobs as response

JOBS: tuple[Job, ...] = (
    response.ESCALATIONS,
    response.ACK_TIMEOUTS,
    response.AUTO_RESOLVES,
    intake.MISSED_HEARTBEATS,
    intake.WINDOW_ENDS,
    intake.HELD_PAGES,
)
#: Sending the outbox: after the jobs above (their steps make pages due).
SENDS: Sends = outbox.SENDS
