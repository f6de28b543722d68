"""People: users, teams and memberships, API tokens, contact methods and notification rules."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, CreatedMixin, IdMixin


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class UserRole(enum.StrEnum):
    admin = "admin"
    member = "member"


class TeamRole(enum.StrEnum):
    manager = "manager"
    responder = "responder"
    observer = "observer"


class ContactType(enum.StrEnum):
    """Contact kinds; each is served by a channel that registers its rules
    (``people.contact_kinds``)."""

    sms = "sms"
    voice = "voice"
    email = "email"
    webhook = "webhook"  # an https URL receiving signed JSON pages


class Urgency(enum.StrEnum):
    high = "high"
    low = "low"


def _enum(e: type[enum.Enum], name: str) -> Enum:
    return Enum(e, name=name, native_enum=False, length=20, validate_strings=True)


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"), default=UserRole.member)
    ical_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    # Quiet hours (local, in the user's own zone) for low-urgency pages; both or neither.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    # Set when the user was deactivated (``DELETE /users/{id}``): the row stays so that the
    # past keeps their name, but they can no longer sign in, use a token or be paged.
    deactivated_at: Mapped[datetime | None]
    # argon2id hash of the web sign-in password (``people.passwords``); None: cannot sign in.
    password_hash: Mapped[str | None] = mapped_column(String(255))

    contact_methods: Mapped[list[ContactMethod]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ContactMethod.created_at"
    )


class Team(IdMixin, CreatedMixin, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(200), unique=True)


class TeamMembership(IdMixin, CreatedMixin, Base):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(_enum(TeamRole, "team_role"))


class ApiToken(IdMixin, CreatedMixin, Base):
    """A bearer token. Only a SHA-256 digest of the secret is kept."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ContactMethod(IdMixin, CreatedMixin, Base):
    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("user_id", "type", "address"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[ContactType] = mapped_column(_enum(ContactType, "contact_type"))
    address: Mapped[str] = mapped_column(String(320), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None]
    verification_code_hash: Mapped[str | None] = mapped_column(String(64))
    verification_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the number replied STOP (SMS only; voice to the same number stays on).
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="contact_methods")


class NotificationRule(IdMixin, CreatedMixin, Base):
    __tablename__ = "notification_rules"
    __table_args__ = (UniqueConstraint("contact_method_id", "delay_seconds", "urgency"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact_method_id: Mapped[str] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True
    )
    delay_seconds: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "urgency"), default=Urgency.high)
    #: Try again every ``repeat_every_seconds``, ``repeat_times`` more times, until the incident
    #: is acknowledged or resolved (each repeat is an outbox row of its own).
    repeat_every_seconds: Mapped[int | None] = mapped_column(Integer)
    repeat_times: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
