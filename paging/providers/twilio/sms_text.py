"""SMS composition that respects GSM-7 / UCS-2 segment limits (pure).

Encoding facts (3GPP TS 23.038):

* GSM-7 basic table: 1 septet per character; extension table characters
  (``^ { } \\ [ ~ ] | €`` and form feed) cost 2 septets (escape + char).
  160 septets in a single segment, 153 per segment when concatenated.
* One character outside GSM-7 makes the whole message UCS-2: 70 UTF-16 code
  units in a single segment, 67 per segment when concatenated.
* Segments are packed greedily and an escape pair / surrogate pair is never
  split across two segments, as real encoders do.

Only titles (and, as a last resort, service names) are shortened; the
incident number, link and reply codes are never cut.  Typographic punctuation
(smart quotes, dashes, ellipsis, odd spaces) is transliterated to GSM-7 so a
pasted title does not silently halve the capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from escalation.rules import Action
from paging.response.replies_parse import (
    confirmation_line,
    format_all_codes,
    format_codes,
    reply_code,
)

__all__ = [
    "BundleText",
    "PageText",
    "compose_bulk_confirmation",
    "compose_bundle",
    "compose_confirmation",
    "compose_no_open_incident",
    "compose_page",
    "compose_unknown_reply",
    "encoded_length",
    "help_text",
    "is_gsm7",
    "opt_in_text",
    "opt_out_text",
    "segment_count",
    "to_gsm7",
]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

_TRANSLITERATION = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "…": "...", "•": "*",
        "\t": " ", "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ",
        "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    }
)  # fmt: skip


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM 03.38 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _widths(text: str) -> tuple[list[int], int, int]:
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_MULTI
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2_SINGLE, UCS2_MULTI


def encoded_length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text occupies."""
    return sum(_widths(text)[0])


def segment_count(text: str) -> int:
    """Number of SMS segments needed (an empty body still takes one)."""
    widths, single, multi = _widths(text)
    if sum(widths) <= single:
        return 1
    segments, used = 1, 0
    for width in widths:
        if used + width > multi:
            segments += 1
            used = 0
        used += width
    return segments


def to_gsm7(text: str) -> str:
    """Replace common typographic characters by GSM-7 equivalents.

    Characters without an equivalent (emoji, CJK ...) are kept, so the result
    may still need UCS-2.
    """
    return text.translate(_TRANSLITERATION)


def _clean(text: str) -> str:
    """Transliterate and collapse all whitespace (incl. newlines) to single spaces."""
    return " ".join(to_gsm7(text).split())


def _shorten(text: str, width: int, ellipsis: str) -> str:
    """``text`` in at most ``width`` characters, ``ellipsis`` included; cut at
    a word boundary if one is near.  Never longer for a smaller ``width``."""
    if len(text) <= width:
        return text
    room = width - len(ellipsis)
    if room <= 0:
        return ""
    space = text.rfind(" ", max(room // 2, room - 10), room + 1)
    cut = space if space > 0 else room
    return text[:cut].rstrip() + ellipsis


def _fit(build: Callable[[str], str], text: str, max_segments: int) -> str | None:
    """Longest ``build(shortened text)`` within ``max_segments``; None if even
    an empty text does not fit.  Prefers "..." (GSM-7) and falls back to "…"
    only when the message is UCS-2 anyway.
    """

    def candidate(keep: int) -> str:
        if keep >= len(text):
            return build(text)
        gsm = build(_shorten(text, keep, "..."))
        return gsm if is_gsm7(gsm) else build(_shorten(text, keep, "…"))

    def fits(keep: int) -> bool:
        return segment_count(candidate(keep)) <= max_segments

    if fits(len(text)):
        return candidate(len(text))
    if not fits(0):
        return None
    lo, hi = 0, min(len(text) - 1, GSM7_SINGLE * max_segments)
    while lo < hi:  # largest keep that fits; fits() is monotone in practice
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return candidate(lo)


@dataclass(frozen=True)
class PageText:
    incident_number: int
    severity: str
    service: str
    title: str
    link: str | None = None
    reply_code: int | None = None  # None: no "Reply ..." line
    app: str = "Watchbill"


def _page_head(p: PageText, service: str) -> str:
    head = f"{_clean(p.app)} #{p.incident_number} {_clean(p.severity).upper()}"
    return f"{head} {service}" if service else head


def compose_page(p: PageText, max_segments: int = 2) -> str:
    """``Watchbill #42 CRITICAL Checkout API: Errors above 5% <link> Reply 1a to
    ack, 1r to resolve, 1e to escalate``, shortened to ``max_segments``.

    Only the title is shortened (then the service name, if the title alone
    cannot make room).  If the fixed parts alone exceed the budget (absurd
    link), the message is returned over budget rather than losing them.
    """
    tail = ""
    if p.link:
        tail += f" {p.link.strip()}"
    if p.reply_code is not None:
        tail += f" {format_codes(p.reply_code)}"
    title, service = _clean(p.title), _clean(p.service)

    def with_title(head: str) -> Callable[[str], str]:
        return lambda t: f"{head}: {t}{tail}" if t else f"{head}{tail}"

    fitted = _fit(with_title(_page_head(p, service)), title, max_segments)
    if fitted is not None:
        return fitted
    fitted = _fit(lambda s: f"{_page_head(p, s)}{tail}", service, max_segments)
    return fitted if fitted is not None else f"{_page_head(p, '')}{tail}"


@dataclass(frozen=True)
class BundleText:
    text: str
    included: tuple[int, ...]  # incident numbers listed in ``text``
    remaining: tuple[int, ...]  # not listed: send them in a following message


MIN_BUNDLE_TITLE = 12


def _bundle_item(p: PageText, title: str) -> str:
    codes = ""
    if p.reply_code is not None:
        codes = " " + "/".join(reply_code(p.reply_code, a) for a in Action)
    return f"#{p.incident_number}{codes} {title}".rstrip()


def _bundle_text(
    items: Sequence[PageText],
    titles: Sequence[str],
    shown: int,
    keep: int,
    link: str | None,
    all_code: int | None = None,
) -> str:
    tail = f". {format_all_codes(all_code)}" if all_code is not None else ""

    def build(ellipsis: str) -> str:
        parts = [
            _bundle_item(p, _shorten(t, keep, ellipsis))
            for p, t in zip(items[:shown], titles, strict=False)
        ]
        text = f"{_clean(items[0].app)}: {len(items)} incidents. " + "; ".join(parts)
        rest = len(items) - shown
        if rest:
            return f"{text}; +{rest} more" + (f": {link}" if link else "") + tail
        return (f"{text} {link}" if link else text) + tail

    gsm = build("...")
    return gsm if is_gsm7(gsm) else build("…")


def compose_bundle(
    items: Sequence[PageText],
    link: str | None,
    max_segments: int = 3,
    all_code: int | None = None,
) -> BundleText:
    """One SMS listing several incidents, each with its own reply codes, and (with
    ``all_code``) the code that acts on all of them:

    ``Watchbill: 5 incidents. #42 1a/1r/1e Checkout down; #43 2a/2r/2e DB
    slow; +3 more: <link>. Reply 6a to ack all, 6r to resolve all``

    Lists as many incidents (in the given order) as fit with titles of
    ``MIN_BUNDLE_TITLE`` characters, then gives all titles the largest common
    length that fits; ``+N more`` names how many are left out.  ``included`` is never
    empty, so a caller looping on ``remaining`` always terminates.
    """
    if not items:
        raise ValueError("compose_bundle needs at least one item")
    link = link.strip() if link else None
    titles = [_clean(p.title) for p in items]
    longest = max(len(t) for t in titles)

    def fits(shown: int, keep: int) -> bool:
        text = _bundle_text(items, titles, shown, keep, link, all_code)
        return segment_count(text) <= max_segments

    # Each listed item costs at least "#N; " (4 chars), bounding the scan.
    lo, hi = 1, min(len(items), GSM7_SINGLE * max_segments // 4)
    while lo < hi:  # most incidents listable with readable titles
        mid = (lo + hi + 1) // 2
        if fits(mid, MIN_BUNDLE_TITLE):
            lo = mid
        else:
            hi = mid - 1
    shown = lo
    lo = MIN_BUNDLE_TITLE if fits(shown, MIN_BUNDLE_TITLE) else 0
    hi = max(lo, longest)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(shown, mid):
            lo = mid
        else:
            hi = mid - 1
    return BundleText(
        text=_bundle_text(items, titles, shown, lo, link, all_code),
        included=tuple(p.incident_number for p in items[:shown]),
        remaining=tuple(p.incident_number for p in items[shown:]),
    )


def compose_confirmation(action: Action, number: int, title: str) -> str:
    """``Acknowledged #42 Checkout API errors`` in one segment."""
    head = confirmation_line(action, number)
    fitted = _fit(lambda t: f"{head} {t}" if t else head, _clean(title), 1)
    return fitted if fitted is not None else head


def compose_bulk_confirmation(
    action: Action, acted: Sequence[int], total: int, app: str = "Watchbill"
) -> str:
    """The answer to a code that named several incidents (a bundle's ``ack all``):
    ``Acknowledged 3 incidents: #42 #43 #44``, in at most two segments."""
    if not acted:
        return f"{app}: no incident was {action.past.lower()}: they had been dealt with already."
    count = f"{len(acted)} of {total} incidents" if len(acted) < total else f"{total} incidents"
    rest = "; the others had been dealt with already" if len(acted) < total else ""
    listed = " ".join(f"#{n}" for n in acted)
    text = f"{action.past} {count}: {listed}{rest}."
    return text if segment_count(text) <= 2 else f"{action.past} {count}{rest}."


def help_text(app: str = "Watchbill") -> str:
    return (
        f"{app} on-call paging. Reply 1a to ack, 1r to resolve, 1e to escalate "
        "(use the number from the page; a, r or e alone acts on the newest). "
        "STOP to opt out."
    )


def compose_unknown_reply(app: str = "Watchbill") -> str:
    return f"{app}: reply not understood. Send e.g. 1a to ack, 1r to resolve, 1e to escalate."


def compose_no_open_incident(code: int | None, app: str = "Watchbill") -> str:
    """Answer to a valid reply whose code matches no open incident."""
    if code is None:
        return f"{app}: no open incident to act on."
    return f"{app}: no open incident for code {code}."


def opt_out_text(app: str = "Watchbill") -> str:
    return f"{app}: you will no longer receive pages by SMS. Reply START to resume."


def opt_in_text(app: str = "Watchbill") -> str:
    return f"{app}: SMS pages resumed. Reply HELP for help, STOP to opt out."
