"""Prometheus metrics (no bearer token: expose it only where your scraper can reach it)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

from api.deps import SessionDep
from escalation import incidents

router = APIRouter(tags=["health"])


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


@router.get("/metrics", summary="Prometheus metrics of the API process and its engine")
def metrics(session: SessionDep) -> Response:
    stored = CollectorRegistry(auto_describe=False)
    stored.register(_Unrouted(incidents.count_unrouted(session)))
    return Response(generate_latest() + generate_latest(stored), media_type=CONTENT_TYPE_LATEST)
