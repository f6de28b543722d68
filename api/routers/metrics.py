"""Prometheus metrics (no bearer token: expose it only where your scraper can reach it)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of the API process and its engine",
    response_class=Response,
    responses={200: {"description": "metrics", "content": {"text/plain": {}}}},
)
def metrics() -> Response:
    """Prometheus text format. No bearer token: expose it only where your scraper can reach it."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
