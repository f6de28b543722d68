"""Escalation policies and services. Functions take a session; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import step
from escalation.models import (
    EscalationPolicy,
    EscalationTarget,
    EscalationTier,
    Service,
    TargetType,
    new_integration_key,
)
from people.access import can_manage_team, require_team_manager
from people.models import Team
from people.service import require_active
from schedules.models import Schedule
from store import audit
from store.audit import Actor
from store.errors import Conflict, Invalid, NotFound
from store.pagination import Page, paginate


@dataclass(frozen=True)
class TierInput:
    delay_seconds: int
    targets: Sequence[tuple[TargetType, str]]


def _policy_snapshot(policy: EscalationPolicy) -> dict[str, Any]:
    data = audit.snapshot(policy)
    data["tiers"] = [
        {
            "delay_seconds": tier.delay_seconds,
            "targets": [{"type": t.type.value, "id": t.target_id} for t in tier.targets],
        }
        for tier in policy.tiers
    ]
    return data


def _check_team(session: Session, team_id: str | None) -> None:
    if team_id is not None and session.get(Team, team_id) is None:
        raise Invalid("team_id", f"no team {team_id!r}")


def _require_manager(session: Session, actor: Actor, team_id: str | None, what: str) -> None:
    require_team_manager(session, actor, team_id, what)


def can_manage(session: Session, actor: Actor, team_id: str | None) -> bool:
    """Whether ``actor`` may edit the policies and services of ``team_id`` (and see a
    service's integration key): admins and the team's managers."""
    return can_manage_team(session, actor, team_id)


def _validate_tiers(session: Session, tiers: Sequence[TierInput]) -> None:
    if not tiers:
        raise Invalid("tiers", "a policy needs at least one tier")
    for i, tier in enumerate(tiers):
        if tier.delay_seconds < 1:
            raise Invalid(f"tiers.{i}.delay_seconds", "must be at least 1 second")
        if not tier.targets:
            raise Invalid(f"tiers.{i}.targets", "a tier needs at least one target")
        for j, (kind, target_id) in enumerate(tier.targets):
            field = f"tiers.{i}.targets.{j}.id"
            if kind is TargetType.user:
                require_active(session, {target_id: field})
            elif session.get(Schedule, target_id) is None:
                raise Invalid(field, f"no {kind.value} {target_id!r}")


def _build_tiers(tiers: Sequence[TierInput]) -> list[EscalationTier]:
    return [
        EscalationTier(
            position=i,
            delay_seconds=tier.delay_seconds,
            targets=[
                EscalationTarget(position=j, type=kind, target_id=target_id)
                for j, (kind, target_id) in enumerate(tier.targets)
            ],
        )
        for i, tier in enumerate(tiers)
    ]


def get_policy(session: Session, policy_id: str) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound(f"no escalation policy {policy_id!r}")
    return policy


def list_policies(session: Session, *, cursor: str | None, limit: int) -> Page[EscalationPolicy]:
    return paginate(
        session,
        select(EscalationPolicy),
        EscalationPolicy.created_at,
        EscalationPolicy.id,
        cursor=cursor,
        limit=limit,
    )


@dataclass(frozen=True)
class Level:
    """One tier of a policy as plain data: its number (from 1), delay and targets."""

    number: int
    delay_seconds: int
    targets: list[tuple[TargetType, str]]


@dataclass(frozen=True)
class PolicyLevels:
    policy_id: str
    name: str
    team_id: str | None
    levels: list[Level]


def policy_levels(session: Session, limit: int) -> tuple[list[PolicyLevels], bool]:
    """Policies by name with their tiers and targets, in one query of plain rows (the home
    page shows them all); and whether there were more than ``limit``."""
    chosen = (
        select(EscalationPolicy.id)
        .order_by(EscalationPolicy.name, EscalationPolicy.id)
        .limit(limit + 1)
        .subquery()
    )
    found = session.execute(
        select(
            EscalationPolicy.id,
            EscalationPolicy.name,
            EscalationPolicy.team_id,
            EscalationTier.id,
            EscalationTier.position,
            EscalationTier.delay_seconds,
            EscalationTarget.type,
            EscalationTarget.target_id,
        )
        .join(chosen, chosen.c.id == EscalationPolicy.id)
        .join(EscalationTier, EscalationTier.policy_id == EscalationPolicy.id)
        .outerjoin(EscalationTarget, EscalationTarget.tier_id == EscalationTier.id)
        .order_by(
            EscalationPolicy.name,
            EscalationPolicy.id,
            EscalationTier.position,
            EscalationTarget.position,
        )
    )
    policies: dict[str, PolicyLevels] = {}
    tiers: dict[str, Level] = {}
    for policy_id, name, team_id, tier_id, position, delay, kind, target_id in found:
        policy = policies.get(policy_id)
        if policy is None:
            policy = policies[policy_id] = PolicyLevels(policy_id, name, team_id, [])
        level = tiers.get(tier_id)
        if level is None:
            level = tiers[tier_id] = Level(position + 1, delay, [])
            policy.levels.append(level)
        if kind is not None and target_id is not None:
            level.targets.append((kind, target_id))
    listed = list(policies.values())
    return listed[:limit], len(listed) > limit


def create_policy(
    session: Session,
    actor: Actor,
    *,
    name: str,
    team_id: str | None,
    repeat: int,
    tiers: Sequence[TierInput],
) -> EscalationPolicy:
    _check_team(session, team_id)
    _require_manager(session, actor, team_id, "create escalation policies")
    if repeat < 0:
        raise Invalid("repeat", "must be 0 or more")
    _validate_tiers(session, tiers)
    policy = EscalationPolicy(name=name, team_id=team_id, repeat=repeat, tiers=_build_tiers(tiers))
    session.add(policy)
    session.flush()
    audit.record(session, actor, "create", policy, None, after=_policy_snapshot(policy))
    return policy


def replace_policy(
    session: Session,
    actor: Actor,
    policy_id: str,
    *,
    name: str,
    repeat: int,
    tiers: Sequence[TierInput],
) -> EscalationPolicy:
    """Replace a policy's tiers. Open incidents keep their place (clamped to the new shape)."""
    policy = get_policy(session, policy_id)
    _require_manager(session, actor, policy.team_id, "edit this escalation policy")
    if repeat < 0:
        raise Invalid("repeat", "must be 0 or more")
    _validate_tiers(session, tiers)
    before = _policy_snapshot(policy)
    policy.name = name
    policy.repeat = repeat
    policy.tiers.clear()
    session.flush()
    policy.tiers.extend(_build_tiers(tiers))
    session.flush()
    audit.record(session, actor, "update", policy, before, after=_policy_snapshot(policy))
    return policy


def delete_policy(session: Session, actor: Actor, policy_id: str) -> None:
    policy = get_policy(session, policy_id)
    _require_manager(session, actor, policy.team_id, "delete this escalation policy")
    used = session.scalar(select(Service.id).where(Service.escalation_policy_id == policy_id))
    if used is not None:
        raise Conflict("the policy is used by a service; point the service elsewhere first")
    audit.record(session, actor, "delete", policy, _policy_snapshot(policy), after=None)
    session.delete(policy)


def policy_using_schedule(session: Session, schedule_id: str) -> str | None:
    """A policy that pages a schedule (``escalation policy 'Name'``), or None."""
    name = session.scalar(
        select(EscalationPolicy.name)
        .join(EscalationTier, EscalationTier.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.tier_id == EscalationTier.id)
        .where(
            EscalationTarget.type == TargetType.schedule,
            EscalationTarget.target_id == schedule_id,
        )
        .limit(1)
    )
    return None if name is None else f"escalation policy {name!r}"


def policy_spec(policy: EscalationPolicy) -> step.Policy:
    """The pure form of a policy, for the step function."""
    return step.Policy(
        tiers=tuple(
            step.Tier(
                delay_seconds=tier.delay_seconds,
                targets=tuple(step.Target(t.type.value, t.target_id) for t in tier.targets),
            )
            for tier in policy.tiers
        ),
        repeat=policy.repeat,
    )


# --- services ------------------------------------------------------------------------------


def get_service(session: Session, service_id: str) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"no service {service_id!r}")
    return service


def service_by_key(session: Session, integration_key: str) -> Service | None:
    return session.scalar(select(Service).where(Service.integration_key == integration_key))


def list_services(session: Session, *, cursor: str | None, limit: int) -> Page[Service]:
    return paginate(
        session, select(Service), Service.created_at, Service.id, cursor=cursor, limit=limit
    )


def _check_timeouts(changes: dict[str, Any]) -> None:
    for key in ("acknowledgement_timeout_seconds", "auto_resolve_timeout_seconds"):
        value = changes.get(key)
        if value is not None and value < 1:
            raise Invalid(key, "must be at least 1 second (or null for none)")


def create_service(
    session: Session,
    actor: Actor,
    *,
    name: str,
    escalation_policy_id: str,
    team_id: str | None,
    acknowledgement_timeout_seconds: int | None,
    auto_resolve_timeout_seconds: int | None,
) -> Service:
    _check_team(session, team_id)
    _require_manager(session, actor, team_id, "create services")
    if session.get(EscalationPolicy, escalation_policy_id) is None:
        raise Invalid("escalation_policy_id", f"no escalation policy {escalation_policy_id!r}")
    _check_timeouts(
        {
            "acknowledgement_timeout_seconds": acknowledgement_timeout_seconds,
            "auto_resolve_timeout_seconds": auto_resolve_timeout_seconds,
        }
    )
    service = Service(
        name=name,
        team_id=team_id,
        escalation_policy_id=escalation_policy_id,
        acknowledgement_timeout_seconds=acknowledgement_timeout_seconds,
        auto_resolve_timeout_seconds=auto_resolve_timeout_seconds,
    )
    session.add(service)
    audit.record(session, actor, "create", service, None)
    return service


def update_service(
    session: Session, actor: Actor, service_id: str, changes: dict[str, Any]
) -> tuple[Service, bool]:
    """Apply ``changes``; returns the service and whether its escalation policy changed."""
    service = get_service(session, service_id)
    _require_manager(session, actor, service.team_id, "edit this service")
    if "team_id" in changes:
        _check_team(session, changes["team_id"])
        _require_manager(session, actor, changes["team_id"], "move a service to that team")
    policy_id = changes.get("escalation_policy_id")
    if policy_id is not None and session.get(EscalationPolicy, policy_id) is None:
        raise Invalid("escalation_policy_id", f"no escalation policy {policy_id!r}")
    _check_timeouts(changes)
    before = audit.snapshot(service)
    policy_changed = policy_id is not None and policy_id != service.escalation_policy_id
    for key, value in changes.items():
        setattr(service, key, value)
    audit.record(session, actor, "update", service, before)
    return service, policy_changed


def rotate_integration_key(session: Session, actor: Actor, service_id: str) -> Service:
    service = get_service(session, service_id)
    _require_manager(session, actor, service.team_id, "rotate this service's key")
    service.integration_key = new_integration_key()
    audit.record(session, actor, "rotate_key", service, None, after=None)
    return service


def services_using(session: Session, policy_id: str) -> list[Service]:
    """The services that page through ``policy_id``, by name."""
    stmt = select(Service).where(Service.escalation_policy_id == policy_id)
    return list(session.scalars(stmt.order_by(Service.name)))
