from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.rules import Action
from paging.response.replies_parse import (
    LETTERS,
    Reply,
    ReplyKind,
    confirmation_line,
    format_codes,
    parse_reply,
    reply_code,
    should_answer_unknown,
)


def act(action: Action, code: int | None) -> Reply:
    return Reply(ReplyKind.ACTION, action, code)


UNKNOWN = Reply(ReplyKind.UNKNOWN)


def test_plain_code_acknowledges() -> None:
    assert parse_reply("1a") == act(Action.acknowledge, 1)


def test_reply_with_space_between_code_and_letter_acknowledges() -> None:
    assert parse_reply("1 a") == act(Action.acknowledge, 1)


@pytest.mark.parametrize("body", ["'1a'", '"1A "', " 1a. ", "1a!", "“1a”", "‘1A’", "\n1a\n"])
def test_quotes_case_whitespace_and_trailing_punctuation_are_ignored(body: str) -> None:
    assert parse_reply(body) == act(Action.acknowledge, 1)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("ACK 42", act(Action.acknowledge, 42)),
        ("ack42", act(Action.acknowledge, 42)),
        ("resolve 3", act(Action.resolve, 3)),
        ("esc 2", act(Action.escalate, 2)),
        ("a1", act(Action.acknowledge, 1)),
        ("R 7", act(Action.resolve, 7)),
        ("12 resolve", act(Action.resolve, 12)),
        ("3c", act(Action.resolve, 3)),
        ("007e", act(Action.escalate, 7)),
    ],
)
def test_word_and_code_in_either_order(body: str, expected: Reply) -> None:
    assert parse_reply(body) == expected


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("ack", Action.acknowledge),
        ("a", Action.acknowledge),
        ("Ack.", Action.acknowledge),
        ("acknowledge", Action.acknowledge),
        ("r", Action.resolve),
        ("res", Action.resolve),
        ("resolve", Action.resolve),
        ("close", Action.resolve),
        ("c", Action.resolve),
        ("e", Action.escalate),
        ("esc", Action.escalate),
        ("Escalate!", Action.escalate),
    ],
)
def test_bare_action_word_targets_newest_page(body: str, action: Action) -> None:
    assert parse_reply(body) == act(action, None)


@pytest.mark.parametrize(
    "body", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit", " stop. "]
)
def test_twilio_opt_out_keywords_opt_out(body: str) -> None:
    assert parse_reply(body) == Reply(ReplyKind.OPT_OUT)


@pytest.mark.parametrize("body", ["START", "yes", "Unstop"])
def test_twilio_opt_in_keywords_opt_in(body: str) -> None:
    assert parse_reply(body) == Reply(ReplyKind.OPT_IN)


@pytest.mark.parametrize("body", ["HELP", "info", "Help?"])
def test_help_keywords_ask_for_help(body: str) -> None:
    assert parse_reply(body) == Reply(ReplyKind.HELP)


def test_letter_c_resolves_but_cancel_opts_out() -> None:
    assert parse_reply("c") == act(Action.resolve, None)
    assert parse_reply("CANCEL") == Reply(ReplyKind.OPT_OUT)


def test_letter_e_escalates_but_end_opts_out() -> None:
    assert parse_reply("e") == act(Action.escalate, None)
    assert parse_reply("end") == Reply(ReplyKind.OPT_OUT)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "hello",
        "stop please",
        "1a thanks",
        "ack #42",
        "#42a",
        "0a",
        "1x",
        "1234567a",
        "1 2 a",
        "a1r",
        "١a",  # non-ASCII digit
        "1a 2a",
    ],
)
def test_anything_else_is_unknown(body: str) -> None:
    assert parse_reply(body) == UNKNOWN


def test_format_codes_is_verbatim() -> None:
    assert format_codes(1) == "Reply 1a to ack, 1r to resolve, 1e to escalate"
    assert format_codes(12) == "Reply 12a to ack, 12r to resolve, 12e to escalate"


@pytest.mark.parametrize("code", [0, -1, 1_000_000])
def test_format_codes_rejects_codes_that_could_not_be_parsed_back(code: int) -> None:
    with pytest.raises(ValueError):
        format_codes(code)


def test_confirmation_line_names_action_and_incident() -> None:
    assert confirmation_line(Action.acknowledge, 42) == "Acknowledged #42"
    assert confirmation_line(Action.resolve, 7) == "Resolved #7"
    assert confirmation_line(Action.escalate, 1) == "Escalated #1"


codes = st.integers(min_value=1, max_value=999_999)


@given(code=codes, action=st.sampled_from(Action))
def test_every_code_token_round_trips(code: int, action: Action) -> None:
    assert parse_reply(reply_code(code, action)) == act(action, code)


@given(code=codes)
def test_every_token_in_the_codes_line_round_trips(code: int) -> None:
    tokens = re.findall(r"\b\d+[a-z]\b", format_codes(code))
    assert [parse_reply(t) for t in tokens] == [
        act(Action.acknowledge, code),
        act(Action.resolve, code),
        act(Action.escalate, code),
    ]


@given(
    code=codes,
    action=st.sampled_from(Action),
    upper=st.booleans(),
    sep=st.sampled_from(["", " ", "  "]),
    wrap=st.sampled_from(["{}", "'{}'", '"{}"', " {}. ", "{}!"]),
)
def test_tolerant_variants_round_trip(
    code: int, action: Action, upper: bool, sep: str, wrap: str
) -> None:
    token = f"{code}{sep}{LETTERS[action]}"
    body = wrap.format(token.upper() if upper else token)
    assert parse_reply(body) == act(action, code)


@given(st.text())
def test_parse_never_raises_on_arbitrary_text(body: str) -> None:
    reply = parse_reply(body)
    assert (reply.action is None) == (reply.kind is not ReplyKind.ACTION)
    assert reply.code is None or reply.code >= 1


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_unknown_message_is_answered_when_nothing_was_answered_recently() -> None:
    assert should_answer_unknown([], NOW)


def test_third_unknown_answer_within_ten_minutes_is_suppressed() -> None:
    recent = [NOW - timedelta(minutes=9), NOW - timedelta(minutes=1)]
    assert should_answer_unknown(recent[:1], NOW)
    assert not should_answer_unknown(recent, NOW)


def test_answers_older_than_ten_minutes_do_not_count() -> None:
    recent = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=30), NOW]
    assert should_answer_unknown(recent, NOW)


@given(
    st.lists(st.integers(min_value=-3600, max_value=0), max_size=10),
)
def test_unknown_answers_never_exceed_two_per_ten_minutes(offsets: list[int]) -> None:
    # Simulate an auto-responder pinging us at the given instants.
    answered: list[datetime] = []
    for offset in sorted(offsets):
        now = NOW + timedelta(seconds=offset)
        if should_answer_unknown(answered, now):
            answered.append(now)
    for t in answered:
        in_window = [u for u in answered if t - timedelta(minutes=10) < u <= t]
        assert len(in_window) <= 2
