"""calendars.ics_import: recurrence expansion, zones, malformed input, user matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.ics_import import (
    CalendarImportError,
    ImportedEvent,
    match_users,
    parse_ics,
)
from calendars.render import FeedEvent, FeedMeta, render_feed, shift_uid, summary_for

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)

BERLIN_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def ics(*events: str, head: str = "") -> bytes:
    """A VCALENDAR around the given VEVENT bodies, with CRLF line endings."""
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_weekly_rrule_with_exdate_and_moved_instance_across_berlin_dst() -> None:
    # Mondays 09:00-17:00 Berlin from 2025-03-10; DST starts 2025-03-30.
    # 03-17 is excluded; 03-24 (CET) moves to Wednesday 04-02 10:00-18:00 (CEST).
    data = ics(
        """UID:weekly-1@example.com
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Berlin:20250310T090000
DTEND;TZID=Europe/Berlin:20250310T170000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6
EXDATE;TZID=Europe/Berlin:20250317T090000
SUMMARY:Alice""",
        """UID:weekly-1@example.com
DTSTAMP:20250101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20250324T090000
DTSTART;TZID=Europe/Berlin:20250402T100000
DTEND;TZID=Europe/Berlin:20250402T180000
SEQUENCE:1
SUMMARY:Alice (moved)""",
        head=BERLIN_VTIMEZONE,
    )
    result = parse_ics(data, SINCE, UNTIL, "America/New_York")
    got = [(e.start, e.end, e.summary) for e in result.events]
    assert got == [
        (utc(2025, 3, 10, 8), utc(2025, 3, 10, 16), "Alice"),  # CET = UTC+1
        (utc(2025, 3, 31, 7), utc(2025, 3, 31, 15), "Alice"),  # CEST = UTC+2
        (utc(2025, 4, 2, 8), utc(2025, 4, 2, 16), "Alice (moved)"),
        (utc(2025, 4, 7, 7), utc(2025, 4, 7, 15), "Alice"),
        (utc(2025, 4, 14, 7), utc(2025, 4, 14, 15), "Alice"),
    ]
    assert {e.uid for e in result.events} == {"weekly-1@example.com"}
    assert all(e.start.tzinfo is UTC and not e.all_day for e in result.events)
    assert result.warnings == ()


def test_rdate_adds_an_occurrence_and_window_cuts_the_series() -> None:
    data = ics(
        """UID:daily@example.com
DTSTART:20250105T080000Z
DURATION:PT12H
RRULE:FREQ=DAILY
RDATE:20250101T200000Z"""
    )
    result = parse_ics(data, utc(2025, 1, 1, 19), utc(2025, 1, 7))
    assert [(e.start, e.end) for e in result.events] == [
        (utc(2025, 1, 1, 20), utc(2025, 1, 2, 8)),
        (utc(2025, 1, 5, 8), utc(2025, 1, 5, 20)),
        (utc(2025, 1, 6, 8), utc(2025, 1, 6, 20)),
    ]


def test_all_day_events_run_local_midnight_to_midnight_in_default_zone() -> None:
    data = ics(
        """UID:day@example.com
DTSTART;VALUE=DATE:20250308
DTEND;VALUE=DATE:20250311
SUMMARY:Weekend on call""",
        """UID:single@example.com
DTSTART;VALUE=DATE:20250701
SUMMARY:One day""",
    )
    (weekend, single) = parse_ics(data, SINCE, UNTIL, "America/New_York").events
    # The New York DST change (03-09) happens inside; local midnights stay midnights.
    assert (weekend.start, weekend.end) == (utc(2025, 3, 8, 5), utc(2025, 3, 11, 4))
    assert weekend.all_day
    assert (single.start, single.end) == (utc(2025, 7, 1, 4), utc(2025, 7, 2, 4))  # one day


def test_floating_time_uses_default_zone_and_tzid_uses_its_own() -> None:
    data = ics(
        "UID:floating\nDTSTART:20250115T090000\nDTEND:20250115T100000",
        "UID:tokyo\nDTSTART;TZID=Asia/Tokyo:20250115T090000\nDTEND;TZID=Asia/Tokyo:20250115T100000",
        "UID:utc\nDTSTART:20250115T090000Z\nDTEND:20250115T100000Z",
    )
    events = {e.uid: e for e in parse_ics(data, SINCE, UNTIL, ZoneInfo("Europe/Berlin")).events}
    assert events["floating"].start == utc(2025, 1, 15, 8)
    assert events["tokyo"].start == utc(2025, 1, 15, 0)
    assert events["utc"].start == utc(2025, 1, 15, 9)


def test_x_wr_timezone_applies_to_floating_times() -> None:
    data = ics(
        "UID:f\nDTSTART:20250115T090000\nDTEND:20250115T100000", head="X-WR-TIMEZONE:Asia/Tokyo\n"
    )
    (event,) = parse_ics(data, SINCE, UNTIL, "Europe/Berlin").events
    assert event.start == utc(2025, 1, 15, 0)


def test_unknown_tzid_falls_back_to_default_zone_with_a_warning() -> None:
    data = ics(
        "UID:m\nDTSTART;TZID=Mars/Olympus:20250115T090000\nDTEND;TZID=Mars/Olympus:20250115T100000"
    )
    result = parse_ics(data, SINCE, UNTIL, "Europe/Berlin")
    assert result.events[0].start == utc(2025, 1, 15, 8)
    assert any("Mars/Olympus" in w for w in result.warnings)


def test_window_keeps_overlapping_events_only() -> None:
    data = ics(
        "UID:before\nDTSTART:20241230T000000Z\nDTEND:20250101T000000Z",
        "UID:straddles\nDTSTART:20241231T000000Z\nDTEND:20250101T010000Z",
        "UID:at-end\nDTSTART:20260101T000000Z\nDTEND:20260102T000000Z",
        "UID:inside-no-end\nDTSTART:20250601T000000Z",
    )
    result = parse_ics(data, SINCE, UNTIL)
    assert [e.uid for e in result.events] == ["straddles", "inside-no-end"]
    assert result.events[1].end == result.events[1].start


def test_cancelled_occurrences_are_skipped() -> None:
    data = ics(
        "UID:s\nDTSTART:20250102T090000Z\nDTEND:20250102T100000Z\nRRULE:FREQ=DAILY;COUNT=3",
        "UID:s\nRECURRENCE-ID:20250103T090000Z\nDTSTART:20250103T090000Z\n"
        "DTEND:20250103T100000Z\nSTATUS:CANCELLED",
    )
    starts = [e.start.day for e in parse_ics(data, SINCE, UNTIL).events]
    assert starts == [2, 4]


def test_attendees_organizer_and_calendar_name_are_extracted() -> None:
    data = ics(
        """UID:a
DTSTART:20250102T090000Z
DTEND:20250102T100000Z
SUMMARY:Shift
ORGANIZER;CN=Boss:mailto:Boss@Example.com
ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:MAILTO:Alice@Example.COM
ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.com
ATTENDEE;EMAIL=dave@example.com:urn:uuid:1234
ATTENDEE:mailto:alice@example.com""",
        head="X-WR-CALNAME:Ops rota\n",
    )
    result = parse_ics(data, SINCE, UNTIL)
    (event,) = result.events
    assert event.attendee_emails == ("alice@example.com", "dave@example.com")
    assert event.organizer_email == "boss@example.com"
    assert event.summary == "Shift"
    assert result.calendar_name == "Ops rota"


def test_minutely_series_is_skipped_with_a_warning() -> None:
    data = ics(
        "UID:spam\nDTSTART:19700101T000000Z\nRRULE:FREQ=MINUTELY",
        "UID:ok\nDTSTART:20250102T000000Z",
    )
    result = parse_ics(data, SINCE, UNTIL)
    assert [e.uid for e in result.events] == ["ok"]
    assert any("spam" in w for w in result.warnings)


def test_too_many_occurrences_raise() -> None:
    data = ics("UID:h\nDTSTART:20250101T000000Z\nRRULE:FREQ=HOURLY")
    with pytest.raises(CalendarImportError, match="more than 100"):
        parse_ics(data, SINCE, UNTIL, max_events=100)


def test_rendered_feed_imports_back_and_matches_users() -> None:
    meta = FeedMeta(name="Primary", time_zone="UTC", url="https://x.example")
    start = utc(2025, 2, 3, 9)
    feed = render_feed(
        meta,
        [
            FeedEvent(
                uid=shift_uid("x.example", "s", "u1", start),
                start=start,
                end=start + timedelta(days=7),
                summary=summary_for("Alice Smith", "Primary, EU"),
                description="",
                sequence=0,
                last_modified=start,
            )
        ],
        start,
        alarm_minutes=10,
    )
    (event,) = parse_ics(feed, SINCE, UNTIL).events
    assert (event.start, event.end) == (start, start + timedelta(days=7))
    matched, unmatched = match_users([event], {}, {"alice smith": "u1"})
    assert matched == [(event, "u1")]
    assert unmatched == []


MALFORMED = {
    "garbage": b"hello world",
    "empty": b"",
    "only blank lines": b"\r\n\r\n",
    "truncated": ics("UID:x\nDTSTART:20250101T000000Z")[:-30],
    "mismatched end": b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    "top-level event": b"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20250101T000000Z\r\nEND:VEVENT\r\n",
    "trailing junk": ics("UID:x\nDTSTART:20250101T000000Z") + b"junk\r\n",
    "bad dtstart": ics("UID:x\nDTSTART:2025XX01T000000Z"),
    "bad rrule": ics("UID:x\nDTSTART:20250101T000000Z\nRRULE:FREQ=SOMETIMES"),
    "missing dtstart": ics("UID:x\nSUMMARY:no start"),
    "julian calendar": ics("UID:x\nDTSTART:20250101T000000Z", head="CALSCALE:JULIAN\n"),
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_raises_calendar_import_error(data: bytes) -> None:
    with pytest.raises(CalendarImportError) as info:
        parse_ics(data, SINCE, UNTIL)
    assert str(info.value)


def test_non_bytes_and_oversized_input_raise_calendar_import_error() -> None:
    with pytest.raises(CalendarImportError, match="expected bytes"):
        parse_ics("BEGIN:VCALENDAR", SINCE, UNTIL)  # type: ignore[arg-type]
    with pytest.raises(CalendarImportError, match="more than 10"):
        parse_ics(ics("UID:x\nDTSTART:20250101T000000Z"), SINCE, UNTIL, max_bytes=10)


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_ics(b"", datetime(2025, 1, 1), UNTIL)
    with pytest.raises(ValueError, match="after"):
        parse_ics(b"", UNTIL, SINCE)
    with pytest.raises(ValueError, match="time zone"):
        parse_ics(b"", SINCE, UNTIL, "Mars/Olympus")


VALID = ics(
    "UID:a\nDTSTART;TZID=Europe/Berlin:20250310T090000\nDTEND;TZID=Europe/Berlin:20250310T170000\n"
    "RRULE:FREQ=WEEKLY;COUNT=5\nEXDATE;TZID=Europe/Berlin:20250317T090000\n"
    "ATTENDEE:mailto:a@example.com\nSUMMARY:Alice",
    "UID:b\nDTSTART;VALUE=DATE:20250401\nDTEND;VALUE=DATE:20250402",
    head=BERLIN_VTIMEZONE,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(VALID)),
    flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=4),
)
def test_damaged_input_raises_only_calendar_import_error(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(VALID)
    for position, byte in flips:
        data[position] = byte
    try:
        result = parse_ics(bytes(data[:cut]), SINCE, UNTIL)
    except CalendarImportError:
        return
    assert all(e.start.tzinfo is UTC and e.end >= e.start for e in result.events)


def event(
    uid: str, summary: str = "", attendees: tuple[str, ...] = (), organizer: str | None = None
) -> ImportedEvent:
    return ImportedEvent(uid, utc(2025, 1, 1), utc(2025, 1, 2), summary, attendees, organizer)


EMAILS = {"Alice@Example.com": "u-alice", "bob@example.com": "u-bob", "boss@example.com": "u-boss"}
NAMES = {"Alice Smith": "u-alice", "Bob": "u-bob"}


def test_attendee_email_matches_first() -> None:
    e = event("1", summary="Bob", attendees=("alice@example.com",))
    assert match_users([e], EMAILS, NAMES).matched == [(e, "u-alice")]


def test_organizer_counts_only_when_no_other_attendee_is_a_user() -> None:
    invited = event(
        "1", attendees=("boss@example.com", "bob@example.com"), organizer="boss@example.com"
    )
    alone = event("2", attendees=("boss@example.com", "x@other.org"), organizer="boss@example.com")
    assert match_users([invited, alone], EMAILS, NAMES).matched == [
        (invited, "u-bob"),
        (alone, "u-boss"),
    ]


def test_summary_with_email_or_exact_name_matches_case_insensitively() -> None:
    by_email = event("1", summary="On call: BOB@example.com")
    by_name = event("2", summary="  alice   SMITH ")
    own_format = event("3", summary="On call: Alice Smith — Primary")
    result = match_users([by_email, by_name, own_format], EMAILS, NAMES)
    assert result.matched == [(by_email, "u-bob"), (by_name, "u-alice"), (own_format, "u-alice")]
    assert result.unmatched == []


def test_unmatched_and_ambiguous_events_are_reported_not_dropped() -> None:
    partial_name = event("1", summary="Alice")
    stranger = event("2", summary="Nobody on call — Primary", attendees=("x@other.org",))
    two_users = event("3", attendees=("alice@example.com", "bob@example.com"))
    matched, unmatched = match_users([partial_name, stranger, two_users], EMAILS, NAMES)
    assert matched == []
    assert unmatched == [partial_name, stranger, two_users]


def test_names_that_collide_after_normalizing_do_not_match() -> None:
    e = event("1", summary="alex")
    assert match_users([e], {}, {"Alex": "u1", "ALEX": "u2"}).unmatched == [e]
    assert match_users([e], {}, {"Alex": "u1", "ALEX": "u1"}).matched == [(e, "u1")]
