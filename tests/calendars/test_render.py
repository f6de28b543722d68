"""calendars.render: every feed is parsed back with icalendar and checked field by field."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.render import (
    PRODID,
    FeedEvent,
    FeedMeta,
    etag_for,
    gap_summary_for,
    render_feed,
    shift_fingerprint,
    shift_uid,
    summary_for,
)

NS = "watchbill.example.org"
NOW = datetime(2025, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
META = FeedMeta(
    name="Platform, primary; EU",
    time_zone="Europe/Berlin",
    url="https://watchbill.example.org/schedules/42",
    refresh=timedelta(minutes=90),
    description="Shifts of the platform rotation",
    source_url="https://watchbill.example.org/feeds/abc.ics",
)


def make_event(
    start: datetime,
    hours: float = 8,
    *,
    person: str | None = "Alice",
    schedule: str = "Primary",
    description: str = "Escalation policy: Default",
    sequence: int = 0,
    url: str | None = "https://watchbill.example.org/shifts/1",
) -> FeedEvent:
    end = start + timedelta(hours=hours)
    return FeedEvent(
        uid=shift_uid(NS, "sched-1", person, start),
        start=start,
        end=end,
        summary=summary_for(person, schedule) if person else gap_summary_for(schedule),
        description=description,
        sequence=sequence,
        last_modified=datetime(2025, 2, 1, 8, 0, tzinfo=UTC),
        url=url,
        is_gap=person is None,
    )


def unescape(raw: object) -> str:
    """RFC 5545 TEXT unescaping, for properties icalendar 7 keeps raw (vUnknown: NAME, X-WR-*)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], str(raw))


def parse(body: bytes) -> Any:
    """Parse with icalendar; assert no errors anywhere (Any: icalendar has union types)."""
    cal: Any = icalendar.Calendar.from_ical(body)
    assert isinstance(cal, icalendar.Calendar)
    assert cal.errors == []
    for component in cal.walk():
        assert component.errors == [], component.errors
    return cal


def vevents(body: bytes) -> list[Any]:
    return list(parse(body).walk("VEVENT"))


def test_calendar_properties_parse_back() -> None:
    cal = parse(render_feed(META, [], NOW))
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == PRODID == "-//Watchbill//Watchbill//EN"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert unescape(cal["X-WR-CALNAME"]) == unescape(cal["NAME"]) == "Platform, primary; EU"
    assert str(cal["X-WR-CALDESC"]) == str(cal["DESCRIPTION"]) == "Shifts of the platform rotation"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert str(cal["URL"]) == "https://watchbill.example.org/schedules/42"
    assert str(cal["SOURCE"]) == "https://watchbill.example.org/feeds/abc.ics"
    assert cal["REFRESH-INTERVAL"].dt == timedelta(minutes=90)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H30M"


def test_every_vevent_field_parses_back() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    event = make_event(start, 24 * 7, sequence=3)
    (parsed,) = vevents(render_feed(META, [event], NOW))
    assert str(parsed["UID"]) == event.uid
    assert parsed["DTSTAMP"].dt == datetime(2025, 3, 1, 12, 30, 45, tzinfo=UTC)
    assert parsed["DTSTART"].dt == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    assert parsed["DTEND"].dt == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert parsed["DTSTART"].dt.utcoffset() == timedelta(0)
    assert str(parsed["SUMMARY"]) == "On call: Alice — Primary"
    assert str(parsed["DESCRIPTION"]) == "Escalation policy: Default"
    assert int(parsed["SEQUENCE"]) == 3
    assert parsed["LAST-MODIFIED"].dt == datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
    assert str(parsed["URL"]) == "https://watchbill.example.org/shifts/1"
    assert str(parsed["TRANSP"]) == "TRANSPARENT"
    assert parsed["CATEGORIES"].cats == ["On call"]
    assert parsed.subcomponents == []


def test_instants_are_written_in_utc_with_z_suffix() -> None:
    body = render_feed(META, [make_event(datetime(2025, 6, 1, 9, 0, tzinfo=NEW_YORK))], NOW)
    assert b"\r\nDTSTART:20250601T130000Z\r\n" in body
    assert b"\r\nDTEND:20250601T210000Z\r\n" in body
    assert b"\r\nDTSTAMP:20250301T123045Z\r\n" in body
    assert b"VTIMEZONE" not in body


def test_url_is_omitted_when_not_given_and_gap_is_categorized() -> None:
    gap = make_event(datetime(2025, 3, 3, tzinfo=UTC), person=None, url=None)
    (parsed,) = vevents(render_feed(META, [gap], NOW))
    assert "URL" not in parsed
    assert str(parsed["SUMMARY"]) == "Nobody on call — Primary"
    assert parsed["CATEGORIES"].cats == ["Coverage gap"]


def test_crlf_line_endings_and_lines_at_most_75_octets() -> None:
    long_text = "Ünïcödé, résumé; naïve — 漢字 🚨 " * 40
    event = make_event(datetime(2025, 3, 3, tzinfo=UTC), description=long_text)
    body = render_feed(META, [event], NOW, alarm_minutes=10)
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # folding never splits a UTF-8 sequence


def test_output_is_sorted_and_deterministic() -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    events = [make_event(base + timedelta(hours=8 * i), person=f"P{i}") for i in range(50)]
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    assert render_feed(META, shuffled, NOW) == render_feed(META, events, NOW)
    starts = [e["DTSTART"].dt for e in vevents(render_feed(META, shuffled, NOW))]
    assert starts == sorted(starts)


def test_shift_uid_is_stable_for_the_same_identity() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    uid = shift_uid(NS, "sched-1", "user-1", start)
    assert re.fullmatch(r"[0-9a-f]{32}@watchbill\.example\.org", uid)
    assert shift_uid(NS, "sched-1", "user-1", start) == uid
    assert shift_uid(NS, "sched-1", "user-1", start.astimezone(UTC)) == uid  # same instant


def test_shift_uid_differs_for_another_start_person_schedule_or_gap() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    uid = shift_uid(NS, "sched-1", "user-1", start)
    others = {
        shift_uid(NS, "sched-1", "user-1", start + timedelta(minutes=1)),
        shift_uid(NS, "sched-1", "user-2", start),
        shift_uid(NS, "sched-2", "user-1", start),
        shift_uid(NS, "sched-1", None, start),
        shift_uid(NS, "sched-1", "", start),
        shift_uid("other.example", "sched-1", "user-1", start),
    }
    assert uid not in others
    assert len(others) == 6


def test_fingerprint_changes_when_the_end_changes() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    fields: dict[str, Any] = {
        "start": start,
        "end": start + timedelta(hours=8),
        "summary": "On call: Alice — Primary",
        "description": "d",
    }
    base = shift_fingerprint(**fields)
    assert shift_fingerprint(**fields) == base
    assert shift_fingerprint(**{**fields, "end": start + timedelta(hours=9)}) != base
    assert shift_fingerprint(**{**fields, "start": start - timedelta(hours=1)}) != base
    assert shift_fingerprint(**{**fields, "summary": "On call: Bob — Primary"}) != base
    assert shift_fingerprint(**{**fields, "description": "e"}) != base
    same_instant = {**fields, "start": start.astimezone(NEW_YORK)}
    assert shift_fingerprint(**same_instant) == base


def test_new_york_dst_change_renders_the_right_utc_instants() -> None:
    # DST starts 2025-03-09 02:00 local: 09:00 EST is 14:00Z, 09:00 EDT is 13:00Z.
    days = [datetime(2025, 3, d, 9, 0, tzinfo=NEW_YORK) for d in range(7, 12)]
    events = [
        FeedEvent(
            uid=shift_uid(NS, "s", "u", start),
            start=start,
            end=start.replace(day=start.day + 1),  # to 09:00 local next day
            summary=summary_for("Alice", "Primary"),
            description="",
            sequence=0,
            last_modified=NOW,
        )
        for start in days
    ]
    parsed = vevents(render_feed(META, events, NOW))
    got = [(e["DTSTART"].dt, e["DTEND"].dt) for e in parsed]
    assert got == [
        (datetime(2025, 3, 7, 14, tzinfo=UTC), datetime(2025, 3, 8, 14, tzinfo=UTC)),
        (datetime(2025, 3, 8, 14, tzinfo=UTC), datetime(2025, 3, 9, 13, tzinfo=UTC)),  # 23 h
        (datetime(2025, 3, 9, 13, tzinfo=UTC), datetime(2025, 3, 10, 13, tzinfo=UTC)),
        (datetime(2025, 3, 10, 13, tzinfo=UTC), datetime(2025, 3, 11, 13, tzinfo=UTC)),
        (datetime(2025, 3, 11, 13, tzinfo=UTC), datetime(2025, 3, 12, 13, tzinfo=UTC)),
    ]


def test_alarm_is_present_only_when_asked() -> None:
    events = [
        make_event(datetime(2025, 3, 3, tzinfo=UTC)),
        make_event(datetime(2025, 3, 4, tzinfo=UTC), person=None),
    ]
    assert b"VALARM" not in render_feed(META, events, NOW)
    shift, gap = vevents(render_feed(META, events, NOW, alarm_minutes=15))
    (alarm,) = shift.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(minutes=-15)
    assert str(alarm["DESCRIPTION"]) == "On call: Alice — Primary"
    assert list(gap.walk("VALARM")) == []  # never alarm for a coverage gap
    (shift_at_start, _) = vevents(render_feed(META, events, NOW, alarm_minutes=0))
    (alarm,) = shift_at_start.walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(0)


@pytest.mark.parametrize("minutes", [-1, 7 * 24 * 60 + 1])
def test_alarm_minutes_out_of_range_is_rejected(minutes: int) -> None:
    with pytest.raises(ValueError, match="alarm_minutes"):
        render_feed(META, [], NOW, alarm_minutes=minutes)


SPECIAL_TEXTS = [
    "commas, and more, commas",
    "semi;colons;everywhere;",
    "back\\slash \\n not a newline \\, \\;",
    "line one\nline two\n\nline four",
    "windows\r\nline\rendings",
    'colon: value; key=value, "quoted"',
    "Zoë Ålander-Nuñez 渡辺 Ελένη Żółć 🚨🧯 ",
    "x" * 3000,
    ("Ünïcödé 🚨 " * 200).strip(),
    "",
]


@pytest.mark.parametrize("text", SPECIAL_TEXTS)
def test_special_characters_round_trip(text: str) -> None:
    event = FeedEvent(
        uid=shift_uid(NS, "s", "u", NOW),
        start=NOW,
        end=NOW + timedelta(hours=1),
        summary=summary_for(text, "Sched, the; one"),
        description=text,
        sequence=1,
        last_modified=NOW,
    )
    meta = FeedMeta(
        name=text or "n", time_zone="UTC", url="https://x.example/a,b;c", description=text or "d"
    )
    cal = parse(render_feed(meta, [event], NOW, alarm_minutes=5))
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    (parsed,) = cal.walk("VEVENT")
    assert str(parsed["DESCRIPTION"]) == expected
    assert str(parsed["SUMMARY"]) == f"On call: {expected.strip()} — Sched, the; one"
    assert str(parsed.walk("VALARM")[0]["DESCRIPTION"]) == str(parsed["SUMMARY"])
    assert unescape(cal["X-WR-CALNAME"]) == unescape(cal["NAME"]) == (expected or "n")
    assert str(cal["DESCRIPTION"]) == unescape(cal["X-WR-CALDESC"]) == (expected or "d")
    assert str(cal["URL"]) == "https://x.example/a,b;c"


def test_control_characters_are_dropped_from_text() -> None:
    event = make_event(NOW, description="bell\x07 nul\x00 tab\tkept")
    (parsed,) = vevents(render_feed(META, [event], NOW))
    assert str(parsed["DESCRIPTION"]) == "bell nul tab\tkept"


_TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from("\n,;\\"))


@settings(max_examples=150, deadline=None)
@given(summary=_TEXT, description=_TEXT)
def test_any_text_round_trips_and_folds_within_75_octets(summary: str, description: str) -> None:
    event = FeedEvent(
        uid="u@x",
        start=NOW,
        end=NOW + timedelta(hours=1),
        summary=summary,
        description=description,
        sequence=0,
        last_modified=NOW,
    )
    body = render_feed(META, [event], NOW)
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    (parsed,) = vevents(body)
    assert str(parsed["SUMMARY"]) == summary
    assert str(parsed["DESCRIPTION"]) == description


def test_summaries() -> None:
    assert summary_for("Alice Smith", "Primary") == "On call: Alice Smith — Primary"
    assert gap_summary_for("Primary") == "Nobody on call — Primary"


def test_etag_is_strong_quoted_and_follows_the_bytes() -> None:
    body = render_feed(META, [make_event(NOW)], NOW)
    etag = etag_for(body)
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)
    assert etag_for(bytes(body)) == etag
    assert etag_for(render_feed(META, [make_event(NOW, sequence=1)], NOW)) != etag


def test_empty_feed_is_valid() -> None:
    cal = parse(render_feed(META, [], NOW))
    assert list(cal.walk("VEVENT")) == []


def test_refresh_interval_formats() -> None:
    for refresh, text in [
        (timedelta(hours=1), "PT1H"),
        (timedelta(days=1), "P1D"),
        (timedelta(days=1, seconds=5), "P1DT5S"),
        (timedelta(seconds=1), "PT1S"),
    ]:
        meta = FeedMeta(name="n", time_zone="UTC", url="https://x.example", refresh=refresh)
        cal = parse(render_feed(meta, [], NOW))
        assert str(cal["X-PUBLISHED-TTL"]) == text
        assert cal["REFRESH-INTERVAL"].dt == refresh


def test_invalid_input_is_rejected() -> None:
    start = datetime(2025, 3, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="duplicate event UID"):
        render_feed(META, [make_event(start), make_event(start)], NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        render_feed(META, [], datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="at least one second"):
        make_event(start, hours=0)
    with pytest.raises(ValueError, match="sequence"):
        make_event(start, sequence=-1)
    with pytest.raises(ValueError, match="URI"):
        make_event(start, url="https://x.example/a b")
    with pytest.raises(ValueError, match="time zone"):
        FeedMeta(name="n", time_zone="Mars/Olympus", url="https://x.example")
    with pytest.raises(ValueError, match="refresh"):
        FeedMeta(name="n", time_zone="UTC", url="https://x.example", refresh=timedelta(0))
    with pytest.raises(ValueError, match="namespace"):
        shift_uid("has space", "s", "u", start)
