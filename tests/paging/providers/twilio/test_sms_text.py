from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.rules import Action
from paging.providers.twilio.sms_text import (
    PageText,
    compose_bundle,
    compose_confirmation,
    compose_no_open_incident,
    compose_page,
    compose_unknown_reply,
    encoded_length,
    help_text,
    is_gsm7,
    opt_in_text,
    opt_out_text,
    segment_count,
    to_gsm7,
)
from paging.response.replies_parse import Reply, ReplyKind, format_codes, parse_reply

LINK = "https://wb.example/i/42"


def page(title: str = "Errors above 5%", **kw: object) -> PageText:
    fields: dict[str, object] = {
        "incident_number": 42,
        "severity": "critical",
        "service": "Checkout API",
        "title": title,
        "link": LINK,
        "reply_code": 1,
    }
    fields.update(kw)
    return PageText(**fields)  # type: ignore[arg-type]


# --- encoding and segments -------------------------------------------------


def test_gsm7_basic_table_has_127_printable_characters_plus_extension() -> None:
    basic = (
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑ\u00dc\u00a7¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    assert len(set(basic)) == 127
    assert is_gsm7(basic)
    assert is_gsm7("^{}\\[~]|€")


@pytest.mark.parametrize("text", ["`", "…", "ç", "á", "😀", "\t", "“"])
def test_characters_outside_gsm7_are_detected(text: str) -> None:
    assert not is_gsm7(f"abc{text}")


@pytest.mark.parametrize(
    ("length", "segments"), [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3)]
)
def test_gsm7_segment_boundaries(length: int, segments: int) -> None:
    assert segment_count("x" * length) == segments


def test_extension_characters_count_as_two_septets() -> None:
    assert encoded_length("[]") == 4
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 81) == 2


def test_escape_pair_is_not_split_across_segments() -> None:
    # 152 septets + "€" (2) would straddle the 153 boundary of segment 1.
    text = "x" * 152 + "€" + "x" * 152
    assert encoded_length(text) == 306
    assert segment_count(text) == 3


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segment_boundaries(length: int, segments: int) -> None:
    assert segment_count("é" + "ç" * (length - 1)) == segments


def test_ucs2_counts_utf16_code_units() -> None:
    assert encoded_length("😀") == 2
    assert segment_count("😀" * 35) == 1
    assert segment_count("😀" * 36) == 2


def test_smart_punctuation_is_transliterated_to_gsm7() -> None:
    assert to_gsm7("“It’s down” – again…") == '"It\'s down" - again...'
    assert is_gsm7(to_gsm7("‘a’ — b\u00a0c"))


# --- pages ------------------------------------------------------------------


def test_short_page_has_head_title_link_and_codes() -> None:
    assert compose_page(page()) == (
        "Watchbill #42 CRITICAL Checkout API: Errors above 5% "
        "https://wb.example/i/42 Reply 1a to ack, 1r to resolve, 1e to escalate"
    )


def test_page_without_reply_code_has_no_codes_line() -> None:
    text = compose_page(page(reply_code=None))
    assert "Reply" not in text
    assert text.endswith(LINK)


def test_long_title_truncated_to_two_segments_keeps_codes() -> None:
    text = compose_page(page("Checkout API error rate above threshold " * 20))
    assert segment_count(text) == 2
    assert text.endswith(f"{LINK} {format_codes(1)}")
    assert "#42 CRITICAL" in text
    assert "... https" in text
    assert is_gsm7(text)


def test_truncation_fills_the_budget() -> None:
    text = compose_page(page("x" * 500))
    assert segment_count(text) == 2
    assert encoded_length(text) > 2 * 153 - 5


def test_truncation_respects_one_segment_budget() -> None:
    text = compose_page(page("Disk almost full on db-primary " * 5), max_segments=1)
    assert segment_count(text) == 1
    assert text.endswith(format_codes(1))


def test_smart_quotes_in_title_do_not_force_ucs2() -> None:
    text = compose_page(page("“Checkout” – errors…"))
    assert is_gsm7(text)
    assert '"Checkout" - errors...' in text


def test_non_gsm_title_uses_unicode_ellipsis() -> None:
    text = compose_page(page("Ошибка оплаты на сервере " * 10))
    assert not is_gsm7(text)
    assert segment_count(text) <= 2
    assert "… https" in text
    assert text.endswith(format_codes(1))


def test_newlines_in_title_are_flattened() -> None:
    assert "Errors\nabove" not in compose_page(page("Errors\nabove\t5%"))
    assert "Errors above 5%" in compose_page(page("Errors\nabove\t5%"))


@given(
    title=st.text(max_size=400),
    service=st.text(max_size=40),
    code=st.none() | st.integers(min_value=1, max_value=999),
    number=st.integers(min_value=1, max_value=10**6),
    max_segments=st.integers(min_value=1, max_value=3),
)
@settings(max_examples=60, deadline=None)
def test_page_always_fits_and_keeps_number_link_and_codes(
    title: str, service: str, code: int | None, number: int, max_segments: int
) -> None:
    p = PageText(number, "high", service, title, LINK, code)
    text = compose_page(p, max_segments=max_segments)
    assert segment_count(text) <= max_segments
    assert text.startswith(f"Watchbill #{number} HIGH")
    assert LINK in text
    if code is not None:
        assert text.endswith(format_codes(code))


# --- bundles ----------------------------------------------------------------


def items(n: int, title: str = "Checkout down in eu-west") -> list[PageText]:
    return [PageText(40 + i, "high", "svc", f"{title} {i}", None, i + 1) for i in range(n)]


def test_bundle_lists_each_incident_with_its_own_codes() -> None:
    result = compose_bundle(items(2, "Checkout down"), "https://wb.example/b")
    assert result.text == (
        "Watchbill: 2 incidents. #40 1a/1r/1e Checkout down 0; "
        "#41 2a/2r/2e Checkout down 1 https://wb.example/b"
    )
    assert result.included == (40, 41)
    assert result.remaining == ()


def test_bundle_codes_parse_back_to_the_listed_incidents() -> None:
    result = compose_bundle(items(3), None)
    assert parse_reply("2r") == Reply(ReplyKind.ACTION, Action.resolve, 2)
    assert "#41 2a/2r/2e" in result.text


def test_large_bundle_shortens_titles_then_says_how_many_more() -> None:
    result = compose_bundle(items(40), "https://wb.example/b", max_segments=3)
    assert segment_count(result.text) <= 3
    rest = len(result.remaining)
    assert rest > 0
    assert result.text.endswith(f"+{rest} more: https://wb.example/b")
    assert result.included + result.remaining == tuple(range(40, 80))
    for number in result.included:
        assert f"#{number} " in result.text
    for number in result.remaining:
        assert f"#{number} " not in result.text


def test_bundle_of_one_still_lists_it() -> None:
    result = compose_bundle(items(1, "x" * 1000), None, max_segments=1)
    assert result.included == (40,)
    assert segment_count(result.text) == 1


def test_empty_bundle_is_rejected() -> None:
    with pytest.raises(ValueError):
        compose_bundle([], None)


@given(
    titles=st.lists(st.text(max_size=120), min_size=1, max_size=60),
    max_segments=st.integers(min_value=1, max_value=4),
)
@settings(max_examples=40, deadline=None)
def test_bundle_never_drops_an_incident_and_fits(titles: list[str], max_segments: int) -> None:
    pages = [PageText(100 + i, "low", "svc", t, None, i + 1) for i, t in enumerate(titles)]
    result = compose_bundle(pages, "https://wb.example/b", max_segments=max_segments)
    assert result.included
    assert result.included + result.remaining == tuple(p.incident_number for p in pages)
    assert segment_count(result.text) <= max_segments
    listed = {int(n) for n in re.findall(r"#(\d+) \d+a/", result.text)}
    assert listed == set(result.included)


# --- short replies ------------------------------------------------------------


def test_confirmation_names_action_number_and_title() -> None:
    assert (
        compose_confirmation(Action.acknowledge, 42, "Checkout API errors")
        == "Acknowledged #42 Checkout API errors"
    )


def test_confirmation_with_long_title_fits_one_segment() -> None:
    text = compose_confirmation(Action.resolve, 42, "Checkout API errors " * 20)
    assert text.startswith("Resolved #42 Checkout API errors")
    assert segment_count(text) == 1


@pytest.mark.parametrize(
    "text",
    [
        help_text(),
        opt_out_text(),
        opt_in_text(),
        compose_unknown_reply(),
        compose_no_open_incident(3),
        compose_no_open_incident(None),
    ],
)
def test_service_replies_are_single_gsm7_segments(text: str) -> None:
    assert is_gsm7(text)
    assert segment_count(text) == 1


def test_help_mentions_codes_and_stop() -> None:
    assert "1a to ack, 1r to resolve, 1e to escalate" in help_text()
    assert "STOP" in help_text()
