"""When the Twilio fake answers a create: at once, late, or only once a test lets it.

A create that is answered late has been accepted all the same (the message or call exists and
its lifecycle runs), as when Twilio accepts a request and the client's timeout runs out before
the answer arrives. Internal to :mod:`tests.fakes.twilio_fake`.
"""

from __future__ import annotations

import threading
from collections import deque


class AnswerTiming:
    def __init__(self, stopping: threading.Event) -> None:
        self._lock = threading.Lock()
        self._stopping = stopping
        self._next: deque[float] = deque()  # delays of the next creates, one each
        self._every = 0.0  # delay of every other create (a slow provider)
        self._open = threading.Event()
        self._open.set()
        self._waiting = 0
        self._free = 0  # creates still answered at once while answers are held

    def delay_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._next.extend([seconds] * n)

    def delay_every(self, seconds: float) -> None:
        with self._lock:
            self._every = seconds

    def reset(self) -> None:
        with self._lock:
            self._next.clear()
            self._every = 0.0
        self._open.set()

    def hold(self, after: int = 0) -> None:
        """Accept creates but answer none (but the next ``after``) until :meth:`release`."""
        with self._lock:
            self._free = after
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def waiting(self) -> int:
        """Creates accepted and not answered yet."""
        with self._lock:
            return self._waiting

    def will_wait(self) -> bool:
        """Whether the answer to the create just accepted is to wait (takes one of the answers
        still given at once while answers are held)."""
        with self._lock:
            if self._next or self._every:
                return True
            if self._open.is_set():
                return False
            if self._free > 0:
                self._free -= 1
                return False
            return True

    def wait(self) -> None:
        """Block the answer of one accepted create as the test asked (until stopping)."""
        with self._lock:
            delay = self._next.popleft() if self._next else self._every
            self._waiting += 1
        try:
            if delay:
                self._stopping.wait(delay)
            while not self._open.is_set() and not self._stopping.is_set():
                self._open.wait(0.05)
        finally:
            with self._lock:
                self._waiting -= 1
