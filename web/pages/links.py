"""The short signed link in an SMS page: ``/l/{token}`` opens the incident for that person
without signing in. GET shows (changes nothing: scanners prefetch links); the buttons POST."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from escalation.rules import Action
from paging.links import LinkError
from paging.providers.twilio import short_links
from store.errors import DomainError
from web.deps import PageDep, SessionDep
from web.incident_view import incident_view
from web.routing import WebRoute, error_page

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/l/{token}")
def show(token: str, page: PageDep, session: SessionDep) -> Response:
    try:
        opened = short_links.open_link(session, page.settings, token, page.now)
    except LinkError as exc:
        return error_page(page.request, exc.status, exc.message)
    view = incident_view(session, opened.incident, opened.actor)
    return page.render("links/incident.html", view=view, link_token=token, person=opened.user)


async def chosen_action(request: Request) -> Action | None:
    """The button pressed (the link's token is the credential: no session, no CSRF cookie)."""
    choice = (await request.form()).get("action")
    try:
        return Action(choice if isinstance(choice, str) else "")
    except ValueError:
        return None


@router.post("/l/{token}")
def act(
    token: str,
    page: PageDep,
    session: SessionDep,
    action: Annotated[Action | None, Depends(chosen_action)],
) -> Response:
    if action is None:
        return error_page(page.request, 422, "Choose Acknowledge, Resolve or Escalate.")
    try:
        opened, result = short_links.act(session, page.settings, token, action, page.now)
    except LinkError as exc:
        return error_page(page.request, exc.status, exc.message)
    except DomainError as exc:
        return error_page(page.request, exc.status, exc.detail)
    message = f"{action.past} #{result.incident.number}."
    if action is Action.acknowledge and not result.changed:
        message = f"#{result.incident.number} was already acknowledged."
    if action is Action.resolve:
        view = incident_view(session, result.incident, opened.actor)
        return page.render(
            "links/incident.html", view=view, link_token=token, person=opened.user, done=message
        )
    return page.redirect(short_links.PATH + token, message)
