"""Prometheus metrics (no bearer token: expose it only where your scraper can reach it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

from api.deps import get_database
from escalation import incidents
from store.db import Database

router = APIRouter(tags=["health"])
log = logging.getLogger("watchbill.api")


class _Unrouted:
    """Incidents whose policy reached nobody in a pass, counted in the database: the same
    figure from every API process, whichever process's engine found them."""

    def __init__(self, count: int) -> None:
        self.count = count

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "watchbill_incidents_unrouted",
            "Incidents in which a whole pass of the escalation policy paged nobody.",
            value=self.count,
        )


@router.get(
    "/metrics",
    summary="Prometheus metrics of the API process and its engine",
    response_class=Response,
    responses={200: {"description": "metrics", "content": {"text/plain": {}}}},
)
def metrics(database: Annotated[Database, Depends(get_database)]) -> Response:
    """Prometheus text format. No bearer token: expose it only where your scraper can reach it."""
    text = generate_latest()
    try:
        with database.transaction() as session:
            unrouted = incidents.count_unrouted(session)
    except Exception as exc:  # the process's own metrics are still worth a scrape
        log.warning("counting unrouted incidents failed: %s", exc)
    else:
        stored = CollectorRegistry(auto_describe=False)
        stored.register(_Unrouted(unrouted))
        text += generate_latest(stored)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
