"""The audit log: every change records who, when, what, and the row before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, String, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, IdMixin, utcnow

#: Columns never copied into the audit log (secrets and their hashes).
SECRET_COLUMNS = frozenset(
    {"token_hash", "verification_code_hash", "ical_token", "secret", "password_hash"}
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (perhaps through a token), the bootstrap admin token, or the system."""

    user_id: str | None
    is_admin: bool
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user_id=None, is_admin=True, label=label)


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: object) -> dict[str, Any]:
    """The column values of an ORM object as JSON-ready data, secrets left out."""
    mapper = inspect(obj.__class__)
    return {
        column.key: _jsonable(getattr(obj, column.key))
        for column in mapper.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: object,
    before: dict[str, Any] | None,
    *,
    entity_type: str | None = None,
    after: dict[str, Any] | bool | None = True,
) -> AuditEntry:
    """Add an audit entry for ``entity``. ``after=True`` snapshots the entity as it is now."""
    session.flush()
    after_value = snapshot(entity) if after is True else (after or None)
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        entity_type=entity_type or getattr(entity, "__tablename__", type(entity).__name__),
        entity_id=str(getattr(entity, "id", "")),
        before=before,
        after=after_value,
    )
    session.add(entry)
    return entry
