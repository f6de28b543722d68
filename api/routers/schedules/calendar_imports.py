"""Imported calendars: a schedule's overrides from an external iCal URL or an uploaded .ics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from api.deps import CurrentActor, NowDep, SessionDep, SettingsDep
from api.schemas.calendars import (
    DEFAULT_HORIZON_DAYS,
    DEFAULT_REFRESH_MINUTES,
    ImportIn,
    ImportOut,
)
from api.schemas.people import ListOut
from api.types import TimeZoneName
from calendars import imports
from calendars.ics_import import MAX_IMPORT_BYTES
from people import validation
from store.errors import Invalid

router = APIRouter(tags=["calendar imports"])


@router.post(
    "/schedules/{schedule_id}/imports",
    status_code=201,
    summary="Follow an iCal URL or load an .ics into the schedule's overrides",
)
def create_import(
    schedule_id: str,
    body: ImportIn,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    now: NowDep,
) -> ImportOut:
    """Events become overrides (attendees or summaries matched to users by e-mail or name;
    recurring events expanded). An `ics` is applied at once and the answer carries its
    report (`unmatched` events included); a `url` is read by the engine within a minute and
    then every `refresh_minutes`."""
    imp = imports.create_import(
        session,
        actor,
        schedule_id,
        name=body.name,
        source_url=body.url,
        content=None if body.ics is None else body.ics.encode("utf-8"),
        time_zone=body.time_zone,
        refresh_seconds=body.refresh_minutes * 60,
        horizon_days=body.horizon_days,
        now=now,
        allow_private=settings.allow_private_urls,
    )
    return ImportOut.of(imp)


@router.post(
    "/schedules/{schedule_id}/imports/upload",
    status_code=201,
    summary="Upload an .ics file (multipart) into the schedule's overrides",
)
def upload_import(
    schedule_id: str,
    file: Annotated[UploadFile, File(description="an iCalendar file")],
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
    name: Annotated[str | None, Form(max_length=200)] = None,
    time_zone: Annotated[TimeZoneName | None, Form()] = None,
    refresh_minutes: Annotated[int, Form(ge=5, le=7 * 24 * 60)] = DEFAULT_REFRESH_MINUTES,
    horizon_days: Annotated[int, Form(ge=1, le=366)] = DEFAULT_HORIZON_DAYS,
) -> ImportOut:
    """Admins and the schedule team's managers. The file is applied at once (malformed data is
    422 and nothing is kept); the answer carries the report, unmatched events included."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise Invalid("file", f"larger than {MAX_IMPORT_BYTES} bytes")
    for field, text, pattern in (
        ("name", name or "", validation.CONTROL),
        ("file", data.decode("utf-8", errors="replace"), validation.CONTROL_BUT_CRLF),
    ):
        why = validation.control_character(text, pattern)
        if why is not None:
            raise Invalid(field, why)
    filename = validation.CONTROL.sub("", file.filename or "")[:200]
    imp = imports.create_import(
        session,
        actor,
        schedule_id,
        name=(name or "").strip() or filename or "Uploaded calendar",
        source_url=None,
        content=data,
        time_zone=time_zone,
        refresh_seconds=refresh_minutes * 60,
        horizon_days=horizon_days,
        now=now,
    )
    return ImportOut.of(imp)


@router.get("/schedules/{schedule_id}/imports", summary="List the schedule's imported calendars")
def list_imports(schedule_id: str, session: SessionDep, _: CurrentActor) -> ListOut[ImportOut]:
    """Everyone signed in."""
    items = imports.list_imports(session, schedule_id)
    return ListOut(items=[ImportOut.of(i) for i in items], next=None)


@router.get(
    "/schedules/{schedule_id}/imports/{import_id}",
    summary="An imported calendar and the report of its last refresh",
)
def get_import(schedule_id: str, import_id: str, session: SessionDep, _: CurrentActor) -> ImportOut:
    """Everyone signed in."""
    return ImportOut.of(imports.get_import(session, schedule_id, import_id))


@router.post(
    "/schedules/{schedule_id}/imports/{import_id}/refresh",
    status_code=202,
    summary="Refresh an imported calendar soon (the engine reads it within a minute)",
)
def refresh_import(
    schedule_id: str, import_id: str, session: SessionDep, actor: CurrentActor, now: NowDep
) -> ImportOut:
    """Admins and the schedule team's managers."""
    imp = imports.get_import(session, schedule_id, import_id)
    imports.request_refresh(session, actor, imp, now)
    return ImportOut.of(imp)


@router.delete(
    "/schedules/{schedule_id}/imports/{import_id}",
    status_code=204,
    summary="Stop importing; its overrides that are not over are cancelled unless kept",
)
def delete_import(
    schedule_id: str,
    import_id: str,
    session: SessionDep,
    actor: CurrentActor,
    now: NowDep,
    keep_overrides: bool = False,
) -> Response:
    """Admins and the schedule team's managers."""
    imp = imports.get_import(session, schedule_id, import_id)
    imports.delete_import(session, actor, imp, now, keep_overrides=keep_overrides)
    return Response(status_code=204)
