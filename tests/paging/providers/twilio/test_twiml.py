from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from escalation.rules import Action
from paging.providers.twilio.twiml import (
    BUNDLE_READ_OUT,
    MENU_TEXT,
    SpokenIncident,
    bundle_menu,
    bundle_speech,
    confirmation_twiml,
    digit_result_twiml,
    invalid_choice_twiml,
    message_twiml,
    page_speech,
    page_twiml,
    parse_digit,
    with_attempt,
)

URL = "https://wb.example/voice/gather?call=abc&sig=x%2By"
TEXT = "This is Watchbill. Critical incident 42 on Checkout API. Errors above 5%."


def parse(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


def says(el: ET.Element) -> list[str]:
    return [s.text or "" for s in el.iter("Say")]


def test_page_says_text_then_menu_inside_one_digit_post_gather() -> None:
    root = parse(page_twiml(TEXT, URL, attempt=0))
    gather = root[0]
    assert gather.tag == "Gather"
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == URL
    assert gather.get("method") == "POST"
    assert gather.get("timeout") is not None
    assert says(gather) == [TEXT, MENU_TEXT]
    assert MENU_TEXT == "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat."


def test_first_silence_redirects_once_with_attempt_flag() -> None:
    root = parse(page_twiml(TEXT, URL, attempt=0))
    assert [child.tag for child in root] == ["Gather", "Redirect"]
    redirect = root[1]
    assert redirect.get("method") == "POST"
    query = parse_qs(urlsplit(redirect.text or "").query)
    assert query == {"call": ["abc"], "sig": ["x+y"], "attempt": ["1"]}


def test_second_silence_says_goodbye_and_hangs_up() -> None:
    root = parse(page_twiml(TEXT, URL, attempt=1))
    assert [child.tag for child in root] == ["Gather", "Say", "Hangup"]
    assert root[1].text == "Goodbye."
    assert not list(root.iter("Redirect"))


def test_text_with_markup_characters_is_escaped() -> None:
    root = parse(page_twiml("Errors <5% & rising", URL, attempt=0))
    assert says(root)[0] == "Errors <5% & rising"


def test_with_attempt_replaces_existing_flag() -> None:
    assert with_attempt("https://x.example/g?attempt=0&a=1", 1) == (
        "https://x.example/g?a=1&attempt=1"
    )


@pytest.mark.parametrize(
    ("digits", "choice"),
    [
        ("4", Action.acknowledge),
        ("5", Action.escalate),
        ("6", Action.resolve),
        ("*", "repeat"),
        (" 4#", Action.acknowledge),
        ("1", None),
        ("#", None),
        ("", None),
        ("44", None),
    ],
)
def test_parse_digit_maps_keys(digits: str, choice: object) -> None:
    assert parse_digit(digits) == choice


def test_acknowledge_digit_confirms_and_hangs_up() -> None:
    root = parse(digit_result_twiml("4", subject="incident 42", page_text=TEXT, action_url=URL))
    assert says(root) == ["Acknowledged incident 42. Goodbye."]
    assert root[-1].tag == "Hangup"


@pytest.mark.parametrize(
    ("digit", "spoken"),
    [("5", "Escalated incident 7. Goodbye."), ("6", "Resolved incident 7. Goodbye.")],
)
def test_escalate_and_resolve_digits_confirm(digit: str, spoken: str) -> None:
    xml = digit_result_twiml(digit, subject="incident 7", page_text=TEXT, action_url=URL)
    assert says(parse(xml)) == [spoken]


def test_star_repeats_the_page() -> None:
    xml = digit_result_twiml("*", subject="incident 42", page_text=TEXT, action_url=URL, attempt=1)
    root = parse(xml)
    assert says(root[0]) == [TEXT, MENU_TEXT]
    assert root[1].tag == "Redirect"


def test_invalid_digit_repeats_menu_only() -> None:
    root = parse(digit_result_twiml("9", subject="incident 42", page_text=TEXT, action_url=URL))
    gather = root[0]
    assert gather.tag == "Gather"
    assert says(gather) == ["Sorry, that is not a valid choice.", MENU_TEXT]


def test_redirect_without_digits_repeats_page_at_given_attempt() -> None:
    xml = digit_result_twiml(None, subject="incident 42", page_text=TEXT, action_url=URL, attempt=1)
    assert xml == page_twiml(TEXT, URL, attempt=1)


def test_invalid_choice_twiml_gives_up_after_second_silence() -> None:
    root = parse(invalid_choice_twiml(URL, attempt=1))
    assert [c.tag for c in root] == ["Gather", "Say", "Hangup"]


def test_confirmation_and_message_twiml_end_the_call() -> None:
    assert says(parse(confirmation_twiml(Action.resolve, 3))) == ["Resolved incident 3. Goodbye."]
    root = parse(message_twiml("Incident 42 is already resolved."))
    assert says(root) == ["Incident 42 is already resolved. Goodbye."]
    assert root[-1].tag == "Hangup"


def test_page_speech_reads_severity_number_service_and_title() -> None:
    assert page_speech(42, "CRITICAL", "Checkout API", "Errors above 5%") == TEXT
    assert page_speech(1, "low", "", "") == "This is Watchbill. Low incident 1."


def test_bundle_speech_counts_then_reads_the_first_few_and_counts_the_rest() -> None:
    storm = [SpokenIncident(40 + n, "critical", "Checkout", f"Disk {n} full") for n in range(7)]
    spoken = bundle_speech(storm)
    assert spoken.startswith(
        "This is Watchbill. 7 open incidents. Critical incident 40 on Checkout. Disk 0 full. "
        "Critical incident 41 on Checkout. Disk 1 full."
    )
    assert spoken.count("Critical incident") == BUNDLE_READ_OUT == 5
    assert spoken.endswith("Disk 4 full. And 2 more.")
    two = bundle_speech(storm[:2])
    assert "more" not in two and two.count("Critical incident") == 2


def test_bundle_menu_says_each_key_acts_on_all_of_them() -> None:
    menu = bundle_menu(3)
    assert menu == (
        "Press 4 to acknowledge all 3, 5 to escalate all 3, 6 to resolve all 3, star to repeat."
    )
    root = parse(
        digit_result_twiml(None, subject="3 incidents", page_text="x", action_url=URL, menu=menu)
    )
    assert says(root[0]) == ["x", menu]
    done = digit_result_twiml("4", subject="3 incidents", page_text="x", action_url=URL)
    assert says(parse(done)) == ["Acknowledged 3 incidents. Goodbye."]
