"""Request and response bodies for users, teams, tokens, contact methods and rules."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from api.types import LocalTime, Name, NotNull, RawText, TimeZoneName
from people import validation
from people.models import ContactType, TeamRole, Urgency, UserRole

T = TypeVar("T")


class Strict(BaseModel):
    """Every request body: unknown fields are 422, and so is a control character (other than
    tab and newline) in any string of any field, dict keys and nested values included."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        if _raw_text(cls, info.field_name or ""):
            return value  # checked by its own type
        return validation.plain_text(value)


@cache
def _raw_text(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    if field is None:
        return False
    return any(isinstance(m, RawText) for m in field.metadata) or _marked(field.annotation)


def _marked(annotation: Any) -> bool:
    """True if ``annotation`` (or a member of a union in it) is ``Annotated[..., RawText()]``."""
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        return any(isinstance(m, RawText) for m in metadata) or _marked(inner)
    return any(_marked(arg) for arg in get_args(annotation))


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(None, description="cursor for the next page; null on the last")


class UserIn(Strict):
    name: Name
    email: EmailStr
    time_zone: TimeZoneName
    role: UserRole = UserRole.member


class UserPatch(Strict):
    name: NotNull[Name] = None
    email: NotNull[EmailStr] = None
    time_zone: NotNull[TimeZoneName] = None
    role: NotNull[UserRole] = None
    quiet_start: LocalTime | None = Field(None, description="start of quiet hours (local)")
    quiet_end: LocalTime | None = None


class UserOut(BaseModel):
    id: str
    name: str
    email: str
    time_zone: str
    role: UserRole
    quiet_start: str | None
    quiet_end: str | None
    ical_url: str | None = Field(
        description="the user's calendar feed (a secret): shown to that user and admins; "
        "null for others"
    )
    webcal_url: str | None = Field(description="`ical_url` as webcal://; null like it")
    created_at: datetime
    active: bool = Field(True, description="false once deactivated (DELETE /users/{id})")
    deactivated_at: datetime | None = None


class UserRef(BaseModel):
    id: str
    name: str


class TeamIn(Strict):
    name: Name


class TeamOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class MemberIn(Strict):
    user_id: str
    role: TeamRole


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    team_id: str
    user_id: str
    user_name: str | None = Field(None, description="the member's name")
    role: TeamRole


class TokenIn(Strict):
    name: Name
    user_id: str | None = None
    admin: StrictBool = False


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    user_id: str | None
    is_admin: bool
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret; shown only once")


class ContactMethodIn(Strict):
    type: ContactType
    address: str = Field(min_length=1, max_length=320)


class ContactMethodOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    type: ContactType
    address: str
    enabled: bool
    verified: bool
    sms_opted_out: bool

    @classmethod
    def of(cls, cm: Any) -> ContactMethodOut:
        return cls(
            id=cm.id,
            user_id=cm.user_id,
            type=cm.type,
            address=cm.address,
            enabled=cm.enabled,
            verified=cm.verified_at is not None,
            sms_opted_out=cm.sms_opted_out,
        )


class VerifyIn(Strict):
    code: str = Field(min_length=1, max_length=20)


class RuleIn(Strict):
    contact_method_id: str
    delay_seconds: StrictInt = Field(ge=0, le=86_400)
    urgency: Urgency = Urgency.high
    repeat_every_seconds: StrictInt | None = Field(
        None,
        ge=1,
        le=86_400,
        description="try again this often until the incident is acknowledged or resolved",
    )
    repeat_times: StrictInt | None = Field(
        None, ge=1, le=20, description="how many more tries (default 3 with repeat_every_seconds)"
    )


class RulePatch(Strict):
    delay_seconds: StrictInt | None = Field(None, ge=0, le=86_400)
    urgency: Urgency | None = None


class PasswordIn(Strict):
    password: str = Field(min_length=1, max_length=1024, description="at least 10 characters")


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    contact_method_id: str
    delay_seconds: int
    urgency: Urgency
    repeat_every_seconds: int | None
    repeat_times: int


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    at: datetime
    actor: str
    actor_user_id: str | None
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
