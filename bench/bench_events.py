"""Benchmark Events API v2 ingestion: ``python -m bench.bench_events`` (from the repo root).

Starts a real ``watchbill serve`` on a loopback port (SQLite: API and engine in one process;
PostgreSQL: ``--workers 2``, two API processes and the engine beside them) and sends
PagerDuty Events v2 triggers over keep-alive HTTP/1.1 connections: 20 % open new incidents
(each one pages someone through the log channel), 80 % repeat the dedup key of an open
incident. Phases per database:

* saturation: ``--connections`` clients send back to back (the most it sustains);
* paced at 80 % of that (when it is below ``--rate``): the latency of a sustainable load;
* saturation with repeats only: ingestion without new incidents (nobody paged);
* paced: events at ``--rate`` per second on a fixed schedule; latency counts from when each
  event was due, so a server that falls behind shows it (no coordinated omission).

Phases start once the engine has sent every page that is due.

Runs on a fresh SQLite file and on a scratch PostgreSQL database (created on the server named
by ``--pg-server`` / ``WATCHBILL_TEST_DATABASE_URL``, dropped afterwards); ``--database-url``
benchmarks one existing database instead. Target: >= 500 events/s on PostgreSQL with p99 <=
100 ms at 500 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.common import ACTOR, PG_SERVER, percentile, responder, scratch_url
from escalation import service as escalation
from escalation.models import Incident, TargetType
from paging.outbox.models import Notification, NotificationStatus
from people.models import Urgency
from store import migrate
from store.base import utcnow
from store.db import Database

TARGET_RATE = 500.0
TARGET_P99_MS = 100.0
NEW_SHARE = 0.2


# --- set-up --------------------------------------------------------------------------------


def seed(database: Database, services: int) -> list[str]:
    """Services, each paging its own responder (SMS through the log channel); their keys."""
    keys = []
    with database.transaction() as session:
        for i in range(services):
            user_id = responder(session, i, (Urgency.high, Urgency.low))
            policy = escalation.create_policy(
                session,
                ACTOR,
                name=f"Bench {i}",
                team_id=None,
                repeat=0,
                tiers=[escalation.TierInput(3600, [(TargetType.user, user_id)])],
            )
            service = escalation.create_service(
                session,
                ACTOR,
                name=f"Bench service {i}",
                escalation_policy_id=policy.id,
                team_id=None,
                acknowledgement_timeout_seconds=None,
                auto_resolve_timeout_seconds=None,
            )
            session.flush()
            keys.append(service.integration_key)
    return keys


def drain(database: Database, timeout: float = 120.0) -> None:
    """Wait until the engine has sent every page that is due (a phase starts from quiet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.transaction() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.status.in_(
                        [NotificationStatus.pending, NotificationStatus.sending]
                    ),
                    Notification.send_at <= utcnow(),
                )
            )
        if not waiting:
            return
        time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WATCHBILL = [sys.executable, "-c", "from api.cli import main; main()"]


@contextmanager
def serve(url: str, workdir: Path, workers: int = 1) -> Iterator[int]:
    """``watchbill serve --workers N`` on a free loopback port: N API processes (the port
    shared) and the engine, in one process when N is 1."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHBILL_")}
    env.update(
        WATCHBILL_DATABASE_URL=url,
        WATCHBILL_EVENTS_RATE_PER_MINUTE="100000000",  # measure ingestion, not the limiter
        WATCHBILL_EVENTS_BURST="1000000",
    )
    # No access log: a line per request is what a proxy in front usually does; it costs ~15 %.
    options = ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    commands = [[*WATCHBILL, "serve", *options]]
    log = (workdir / "serve.log").open("wb")
    root = str(Path(__file__).resolve().parent.parent)
    processes = [
        subprocess.Popen(
            command,
            env={**env, "PYTHONPATH": root},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for command in commands
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                dead = any(p.poll() is not None for p in processes)
                if dead or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "serve.log").read_text()) from None
                time.sleep(0.1)
        time.sleep(1.0 * (workers - 1))  # let every worker start
        yield port
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


# --- load ----------------------------------------------------------------------------------


@dataclass
class Mix:
    """20 % new dedup keys, 80 % repeats of a key already sent to that service."""

    keys: list[str]
    new_share: float = NEW_SHARE
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    open_keys: dict[str, list[str]] = field(default_factory=dict)
    counter: int = 0

    def next_body(self) -> bytes:
        key = self.rng.choice(self.keys)
        known = self.open_keys.setdefault(key, [])
        if not known or self.rng.random() < self.new_share:
            self.counter += 1
            dedup = f"bench-{self.counter}"
            known.append(dedup)
            if len(known) > 200:
                known.pop(0)
        else:
            dedup = self.rng.choice(known)
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {
                "summary": f"High latency on api ({dedup})",
                "source": "bench.example.com",
                "severity": "critical",
                "custom_details": {"p99_ms": 812, "region": "eu-1"},
            },
        }
        return json.dumps(event).encode()


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            "POST /v2/enqueue HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    async def send(self, body: bytes) -> int:
        """``post``; a dropped connection counts as a failure (status 0) and reconnects."""
        try:
            return await self.post(body)
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            self.reader = self.writer = None
            return 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Result:
    sent: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


async def saturate(port: int, mix: Mix, connections: int, seconds: float) -> Result:
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        conn = Connection(port)
        try:
            while time.perf_counter() < stop:
                body = mix.next_body()
                began = time.perf_counter()
                status = await conn.send(body)
                latencies.append((time.perf_counter() - began) * 1000)
                failures += status != 202
        finally:
            conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(len(latencies), time.perf_counter() - began, latencies, failures)


async def paced(port: int, mix: Mix, rate: float, seconds: float, connections: int) -> Result:
    """Events due at a fixed rate; latency counts from each event's due time."""
    total = int(rate * seconds)
    queue: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        conn = Connection(port)
        try:
            while (due := await queue.get()) >= 0:
                status = await conn.send(mix.next_body())
                latencies.append((time.perf_counter() - due) * 1000)
                failures += status != 202
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    for _ in workers:
        queue.put_nowait(-1.0)
    await asyncio.gather(*workers)
    return Result(len(latencies), time.perf_counter() - start, latencies, failures)


# --- reporting -----------------------------------------------------------------------------


def report(label: str, result: Result) -> None:
    print(
        f"  {label:<42} {result.rate:5.0f} events/s   p50 {result.percentile(50):6.1f} ms   "
        f"p99 {result.percentile(99):6.1f} ms   max {max(result.latencies_ms):6.1f} ms   "
        f"non-202: {result.failures}"
    )


def run(name: str, url: str, args: argparse.Namespace) -> bool:
    database = Database(url)
    migrate.upgrade(database.engine)
    keys = seed(database, args.services)
    mix = Mix(keys)
    workers = args.workers or (1 if url.startswith("sqlite") else 2)
    shape = (
        "watchbill serve (API + engine, one process)"
        if workers == 1
        else f"watchbill serve --workers {workers} (API processes + the engine)"
    )
    print(f"{name}: {args.services} services, {shape}, loopback HTTP")
    with tempfile.TemporaryDirectory() as tmp, serve(url, Path(tmp), workers) as port:
        asyncio.run(saturate(port, mix, args.connections, 2.0))  # warm-up, opens the key pool
        drain(database)
        full = asyncio.run(saturate(port, mix, args.connections, args.seconds))
        report(f"saturation ({args.connections} connections)", full)
        drain(database)
        if full.rate < args.rate:  # what it sustains, and with what latency
            rate = 0.8 * full.rate
            easy = asyncio.run(paced(port, mix, rate, args.seconds, args.connections))
            report(f"paced at {rate:.0f}/s (80 % of saturation)", easy)
            drain(database)
        mix.new_share = 0.0
        repeats = asyncio.run(saturate(port, mix, args.connections, args.seconds))
        report("saturation, repeats only (no paging)", repeats)
        mix.new_share = NEW_SHARE
        drain(database)
        steady = asyncio.run(paced(port, mix, args.rate, args.seconds, args.connections))
        report(f"paced at {args.rate:.0f}/s", steady)
    with database.transaction() as session:
        incidents = session.scalar(select(func.count()).select_from(Incident))
    print(f"  incidents opened: {incidents} (new keys sent: {mix.counter})")
    database.dispose()
    ok = full.rate >= TARGET_RATE and steady.percentile(99) <= TARGET_P99_MS
    ok = ok and steady.rate >= 0.97 * args.rate and not (full.failures or steady.failures)
    verdict = "OK" if ok else "BELOW TARGET"
    print(
        f"  target >= {TARGET_RATE:.0f}/s and p99 <= {TARGET_P99_MS:.0f} ms at "
        f"{TARGET_RATE:.0f}/s: {verdict}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark this database only (it is migrated)")
    parser.add_argument(
        "--pg-server",
        default=PG_SERVER,
        help="PostgreSQL server for a scratch database",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument(
        "--workers",
        type=int,
        help="API processes (`watchbill serve --workers N`); default 1 on SQLite, 2 on PostgreSQL",
    )
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.database_url, args)
        return 0
    with scratch_url("sqlite") as url:
        run("SQLite", url, args)
    if args.no_postgres:
        return 0
    with scratch_url("postgresql", args.pg_server) as url:
        ok = run("PostgreSQL", url, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
