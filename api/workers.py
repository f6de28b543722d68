"""``watchbill serve --workers N``: N API processes on one port, each with a socket of its own.

Every worker binds the port with ``SO_REUSEPORT``, so the kernel spreads incoming connections
over the workers. (With one listening socket shared by all of them, whichever worker wakes
first accepts every connection waiting; monitoring tools keep a few connections open for
good, so one worker ended up with nearly all of them while the other sat idle.)

The parent process supervises: a worker that dies is started again; one that fails while
starting (the port is taken, the app cannot be built), or workers dying over and over, stop
the whole command, as they would fail the same way again. SIGINT or SIGTERM stops the
workers gracefully (uvicorn finishes requests in flight), then the parent returns.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

log = logging.getLogger("watchbill.workers")

#: Exit status of a worker that could not start (uvicorn's, for the same).
STARTUP_FAILURE = 3
#: A worker dying this often within CRASH_WINDOW seconds is a crash loop: stop.
CRASH_LIMIT = 5
CRASH_WINDOW = 60.0
STOP_TIMEOUT = 30.0


class WorkersError(Exception):
    """The workers could not be started (a clear, one-line reason)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with ``SO_REUSEPORT``, listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, access_log: bool) -> None:  # pragma: no cover (a child)
    """One API process: the app built from the environment, on a socket of its own."""
    import uvicorn

    from store import logs
    from store.settings import get_settings

    logs.configure(get_settings().log_format, logging.INFO)
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from exc
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        log_level="info",
        access_log=access_log,
        lifespan="on",
        log_config=None,  # uvicorn's records go to the handler set up above
    )
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    def __init__(self, host: str, port: int, workers: int, *, access_log: bool = True) -> None:
        self.host = host
        self.port = port
        self.count = workers
        self.access_log = access_log
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._deaths: list[float] = []
        self._stop = threading.Event()

    def _start_one(self) -> BaseProcess:
        process = self._context.Process(
            target=_worker, args=(self.host, self.port, self.access_log), name="watchbill-api"
        )
        process.start()
        log.info("started API worker %s", process.pid)
        return process

    def run(self) -> None:
        """Run the workers until SIGINT/SIGTERM (or a worker cannot start)."""
        try:  # fail in one line, before any worker, when the port cannot be had
            listening_socket(self.host, self.port).close()
        except OSError as exc:
            raise WorkersError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._processes = [self._start_one() for _ in range(self.count)]
            self._supervise()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _supervise(self) -> None:
        while not self._stop.is_set():
            wait([p.sentinel for p in self._processes], timeout=0.5)
            for index, process in enumerate(self._processes):
                if process.is_alive() or self._stop.is_set():
                    continue
                code = process.exitcode
                if code == STARTUP_FAILURE:
                    raise WorkersError(
                        f"API worker {process.pid} failed to start (exit status {code}); "
                        "see the log above"
                    )
                now = time.monotonic()
                self._deaths = [t for t in self._deaths if now - t < CRASH_WINDOW] + [now]
                if len(self._deaths) >= CRASH_LIMIT:
                    raise WorkersError(
                        f"API workers died {len(self._deaths)} times within "
                        f"{CRASH_WINDOW:.0f} s (last exit status {code}); see the log above"
                    )
                log.warning(
                    "API worker %s died (exit status %s); starting another", process.pid, code
                )
                self._processes[index] = self._start_one()

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("API worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
