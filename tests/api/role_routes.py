"""Every write route of the API with who may call it and what a call sends: the table that
``test_role_matrix.py`` runs against every kind of actor (rows as in the README's role table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.api.role_world import ICS, T0, World, unique

#: The rows of the README's role table (its bold labels) and who each one allows.
ROWS: dict[str, frozenset[str]] = {
    "The organisation": frozenset({"admin"}),
    "A person's own things": frozenset({"admin", "self"}),
    "What a team owns": frozenset({"admin", "manager"}),
    "The team's incidents": frozenset({"admin", "manager", "responder", "self"}),
    "An override of one's own": frozenset({"admin", "manager", "self"}),
}
ADMIN = ROWS["The organisation"]
PERSON = ROWS["A person's own things"]
MANAGERS = ROWS["What a team owns"]
RESPONDERS = ROWS["The team's incidents"]
OWN_OVERRIDE = ROWS["An override of one's own"]

Body = dict[str, Any] | Callable[[World, str], dict[str, Any]] | None


@dataclass(frozen=True)
class Route:
    operation: str  # "METHOD /openapi/path/{param}"
    url: str  # the same with the world's ids: "{self}", "{schedule}", ...
    allowed: frozenset[str]
    status: int
    body: Body = None
    extra: dict[str, Any] = field(default_factory=dict)  # files/data for multipart

    def call(self, client: TestClient, world: World, actor: str) -> Any:
        body = self.body(world, actor) if callable(self.body) else self.body
        method = self.operation.split()[0]
        return client.request(
            method, world.path(self.url), json=body, headers=world.headers(actor), **self.extra
        )


def _own_override(w: World, actor: str) -> dict[str, Any]:
    start, end = T0.replace(day=20).isoformat(), T0.replace(day=21).isoformat()
    return {"user_id": w.user_ids.get(actor, w.ids["self"]), "start": start, "end": end}


def _layer(w: World, actor: str) -> dict[str, Any]:
    start = "2030-05-01T00:00:00Z"
    return {
        "name": "Second",
        "start": start,
        "users": [w.ids["self"]],
        "rotation": {"handoff": start, "shift_length": 1, "shift_unit": "weeks"},
    }


def _tiers(w: World, actor: str) -> dict[str, Any]:
    target = {"type": "user", "id": w.ids["self"]}
    return {
        "name": unique("P"),
        "team_id": w.ids["team"],
        "tiers": [{"delay_seconds": 60, "targets": [target]}],
    }


U, S, SVC = "/api/v1/users", "/api/v1/schedules/{schedule}", "/api/v1/services/{service}"
SID, VID = "/api/v1/schedules/{schedule_id}", "/api/v1/services/{service_id}"
HB, MW = "/heartbeats/{heartbeat_id}", "/maintenance-windows/{window_id}"
ROUTES: dict[str, Route] = {
    # --- people: the person's own things ---------------------------------------------------
    "create user": Route(
        "POST /api/v1/users",
        U,
        ADMIN,
        201,
        lambda w, a: {
            "name": "New",
            "email": f"{unique('n').replace(' ', '')}@example.com",
            "time_zone": "UTC",
        },
    ),
    "edit profile": Route(
        "PATCH /api/v1/users/{user_id}", U + "/{self}", PERSON, 200, {"name": "Renamed"}
    ),
    "change role": Route(
        "PATCH /api/v1/users/{user_id}", U + "/{self}", ADMIN, 200, {"role": "admin"}
    ),
    "delete user": Route("DELETE /api/v1/users/{user_id}", U + "/{spare}", ADMIN, 204),
    "rotate user calendar url": Route(
        "POST /api/v1/users/{user_id}/rotate-ical", U + "/{self}/rotate-ical", PERSON, 200
    ),
    "add contact method": Route(
        "POST /api/v1/users/{user_id}/contact-methods",
        U + "/{self}/contact-methods",
        PERSON,
        201,
        {"type": "sms", "address": "+12015550199"},
    ),
    "confirm contact method": Route(
        "POST /api/v1/contact-methods/{cm_id}/verify",
        "/api/v1/contact-methods/{sms}/verify",
        PERSON,
        200,
        lambda w, a: {"code": w.code},
    ),
    "resend verification": Route(
        "POST /api/v1/contact-methods/{cm_id}/resend-verification",
        "/api/v1/contact-methods/{sms}/resend-verification",
        PERSON,
        202,
    ),
    "send test page": Route(
        "POST /api/v1/contact-methods/{cm_id}/test",
        "/api/v1/contact-methods/{email}/test",
        PERSON,
        202,
    ),
    "delete contact method": Route(
        "DELETE /api/v1/contact-methods/{cm_id}", "/api/v1/contact-methods/{email}", PERSON, 204
    ),
    "add notification rule": Route(
        "POST /api/v1/users/{user_id}/notification-rules",
        U + "/{self}/notification-rules",
        PERSON,
        201,
        lambda w, a: {"contact_method_id": w.ids["email"], "delay_seconds": 60},
    ),
    "change notification rule": Route(
        "PATCH /api/v1/notification-rules/{rule_id}",
        "/api/v1/notification-rules/{rule}",
        PERSON,
        200,
        {"delay_seconds": 120},
    ),
    "set password": Route(
        "PUT /api/v1/users/{user_id}/password",
        U + "/{self}/password",
        PERSON,
        204,
        {"password": "correct horse battery staple"},
    ),
    "delete notification rule": Route(
        "DELETE /api/v1/notification-rules/{rule_id}",
        "/api/v1/notification-rules/{rule}",
        PERSON,
        204,
    ),
    "create token for self": Route(
        "POST /api/v1/tokens",
        "/api/v1/tokens",
        PERSON,
        201,
        lambda w, a: {"name": "t", "user_id": w.ids["self"]},
    ),
    "revoke token of self": Route(
        "DELETE /api/v1/tokens/{token_id}", "/api/v1/tokens/{spare_token}", PERSON, 200
    ),
    # --- teams -------------------------------------------------------------------------------
    "create team": Route(
        "POST /api/v1/teams", "/api/v1/teams", ADMIN, 201, lambda w, a: {"name": unique("T")}
    ),
    "add team member": Route(
        "POST /api/v1/teams/{team_id}/members",
        "/api/v1/teams/{team}/members",
        MANAGERS,
        201,
        lambda w, a: {"user_id": w.ids["spare"], "role": "responder"},
    ),
    "remove team member": Route(
        "DELETE /api/v1/teams/{team_id}/members/{user_id}",
        "/api/v1/teams/{team}/members/{self}",
        MANAGERS,
        204,
    ),
    # --- schedules -----------------------------------------------------------------------------
    "create schedule": Route(
        "POST /api/v1/schedules",
        "/api/v1/schedules",
        MANAGERS,
        201,
        lambda w, a: {"name": unique("S"), "time_zone": "UTC", "team_id": w.ids["team"]},
    ),
    "replace schedule": Route(
        "PUT " + SID,
        S,
        MANAGERS,
        200,
        lambda w, a: {"name": "R", "time_zone": "UTC", "team_id": w.ids["team"], "layers": []},
    ),
    "edit schedule": Route("PATCH " + SID, S, MANAGERS, 200, {"name": "Renamed"}),
    "delete schedule": Route("DELETE " + SID, S, MANAGERS, 204),
    "rotate schedule calendar url": Route(
        f"POST {SID}/rotate-ical", S + "/rotate-ical", MANAGERS, 200
    ),
    "add layer": Route(f"POST {SID}/layers", S + "/layers", MANAGERS, 201, _layer),
    "edit layer": Route(
        f"PATCH {SID}/layers/{{layer_id}}",
        S + "/layers/{layer}",
        MANAGERS,
        200,
        {"name": "Renamed"},
    ),
    "end layer": Route(f"DELETE {SID}/layers/{{layer_id}}", S + "/layers/{layer}", MANAGERS, 204),
    "override for someone else": Route(
        f"POST {SID}/overrides",
        S + "/overrides",
        MANAGERS,
        201,
        lambda w, a: {**_own_override(w, a), "user_id": w.ids["spare"]},
    ),
    "override putting oneself on call": Route(
        f"POST {SID}/overrides", S + "/overrides", RESPONDERS, 201, _own_override
    ),
    "cancel an override of self": Route(
        f"DELETE {SID}/overrides/{{override_id}}", S + "/overrides/{override}", OWN_OVERRIDE, 204
    ),
    "import a calendar": Route(f"POST {SID}/imports", S + "/imports", MANAGERS, 201, {"ics": ICS}),
    "upload a calendar": Route(
        f"POST {SID}/imports/upload",
        S + "/imports/upload",
        MANAGERS,
        201,
        extra={"files": {"file": ("team.ics", ICS.encode(), "text/calendar")}},
    ),
    "refresh an import": Route(
        f"POST {SID}/imports/{{import_id}}/refresh", S + "/imports/{import}/refresh", MANAGERS, 202
    ),
    "delete an import": Route(
        f"DELETE {SID}/imports/{{import_id}}", S + "/imports/{import}", MANAGERS, 204
    ),
    # --- escalation policies and services -------------------------------------------------
    "create policy": Route(
        "POST /api/v1/escalation-policies", "/api/v1/escalation-policies", MANAGERS, 201, _tiers
    ),
    "replace policy": Route(
        "PUT /api/v1/escalation-policies/{policy_id}",
        "/api/v1/escalation-policies/{policy}",
        MANAGERS,
        200,
        _tiers,
    ),
    "delete policy": Route(
        "DELETE /api/v1/escalation-policies/{policy_id}",
        "/api/v1/escalation-policies/{spare_policy}",
        MANAGERS,
        204,
    ),
    "create service": Route(
        "POST /api/v1/services",
        "/api/v1/services",
        MANAGERS,
        201,
        lambda w, a: {
            "name": unique("S"),
            "team_id": w.ids["team"],
            "escalation_policy_id": w.ids["policy"],
        },
    ),
    "edit service": Route("PATCH " + VID, SVC, MANAGERS, 200, {"name": "Renamed"}),
    "rotate integration key": Route(f"POST {VID}/rotate-key", SVC + "/rotate-key", MANAGERS, 200),
    "create heartbeat": Route(
        f"POST {VID}/heartbeats",
        SVC + "/heartbeats",
        MANAGERS,
        201,
        {"name": "nightly", "interval_seconds": 86400},
    ),
    "edit heartbeat": Route(
        f"PATCH {VID}{HB}", SVC + "/heartbeats/{heartbeat}", MANAGERS, 200, {"grace_seconds": 30}
    ),
    "delete heartbeat": Route(f"DELETE {VID}{HB}", SVC + "/heartbeats/{heartbeat}", MANAGERS, 204),
    "rotate ping url": Route(
        f"POST {VID}{HB}/rotate-token", SVC + "/heartbeats/{heartbeat}/rotate-token", MANAGERS, 200
    ),
    "start maintenance": Route(
        f"POST {VID}/maintenance-windows",
        SVC + "/maintenance-windows",
        MANAGERS,
        201,
        {"end": "2030-06-03T14:00:00Z"},
    ),
    "end maintenance": Route(
        f"POST {VID}{MW}/end", SVC + "/maintenance-windows/{active_window}/end", MANAGERS, 200
    ),
    "delete maintenance": Route(
        f"DELETE {VID}{MW}", SVC + "/maintenance-windows/{future_window}", MANAGERS, 204
    ),
    "set support hours": Route(
        f"PUT {VID}/support-hours",
        SVC + "/support-hours",
        MANAGERS,
        200,
        {"time_zone": "UTC", "windows": [{"start": "08:00", "end": "18:00"}]},
    ),
    "remove support hours": Route(
        f"DELETE {VID}/support-hours", SVC + "/support-hours", MANAGERS, 204
    ),
    # --- incidents -------------------------------------------------------------------------
    "open incident": Route(
        "POST /api/v1/incidents",
        "/api/v1/incidents",
        RESPONDERS,
        201,
        lambda w, a: {"service_id": w.ids["service"], "title": "Down"},
    ),
    **{
        f"{action} incident": Route(
            f"POST /api/v1/incidents/{{incident_id}}/{action}",
            f"/api/v1/incidents/{{incident}}/{action}",
            RESPONDERS,
            200,
        )
        for action in ("acknowledge", "resolve", "escalate")
    },
    "add incident note": Route(
        "POST /api/v1/incidents/{incident_id}/notes",
        "/api/v1/incidents/{incident}/notes",
        RESPONDERS,
        201,
        {"text": "Looking at it"},
    ),
}
