"""E-mail action links (HTML for people, at the root: ``/links/{token}``).

GET shows what the link would do and changes nothing (mail scanners prefetch links); the
page's form POSTs to the same URL, which acts. Errors are HTML pages with the right status.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import NowDep, SessionDep, SettingsDep
from api.openapi import problem_response
from escalation import incidents as incident_rows
from paging import links
from paging.outbox.outgoing import incident_url
from paging.providers.email.email_text import (
    ActionPage,
    render_action_confirmation_page,
    render_action_done_page,
    render_action_error_page,
)
from store.errors import DomainError

router = APIRouter(prefix="/links", tags=["e-mail links"])
_PAGE: dict[str, Any] = {"content": {"text/html": {}}}
#: Answers are HTML pages for people, errors included.
PAGES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the page", **_PAGE},
    403: {"description": "the link's signature is wrong", **_PAGE},
    404: {
        "description": "no such link, or its incident is gone (a malformed address: a problem)",
        "content": {"text/html": {}, **problem_response(404)["content"]},
    },
    409: {"description": "the incident cannot be acted on like this (say, resolved)", **_PAGE},
    410: {"description": "the incident is resolved: the link has expired", **_PAGE},
}
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    summary="Confirmation page (changes nothing)",
    responses=PAGES,
)
def confirm_page(
    token: str, session: SessionDep, settings: SettingsDep, now: NowDep
) -> HTMLResponse:
    """The link in a page's e-mail: shows what it would do and changes nothing (mail scanners
    open links). Errors are HTML pages too."""
    try:
        link = links.open_link(session, settings, token, now)
    except links.LinkError as exc:
        return _html(render_action_error_page(exc.message), exc.status)
    service = incident_rows.service_of(session, link.incident)
    page = ActionPage(
        action=link.action,
        incident_number=link.incident.number,
        title=link.incident.title,
        severity=link.incident.severity.value,
        service=service.name,
        post_url=links.link_url(settings, token),
        token=token,
        status=link.incident.status.value,
    )
    return _html(render_action_confirmation_page(page))


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    summary="Act (the confirmation's button)",
    responses=PAGES,
)
def act(token: str, session: SessionDep, settings: SettingsDep, now: NowDep) -> HTMLResponse:
    """The confirmation page's button: acknowledges or resolves as the person the e-mail went to.
    Errors are HTML pages."""
    try:
        link, result = links.follow(session, settings, token, now)
    except links.LinkError as exc:
        return _html(render_action_error_page(exc.message), exc.status)
    except DomainError as exc:
        return _html(render_action_error_page(exc.detail), exc.status)
    return _html(
        render_action_done_page(
            link.action,
            result.incident.number,
            result.incident.title,
            incident_url(settings, result.incident.id),
        )
    )
