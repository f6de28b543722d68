"""What each contact kind means to people: how its addresses are written, and whether a STOP
from the address pauses it.

The paging providers register their kinds here when channels are wired
(``paging.providers.registry.wire``): ``people`` imports nothing above it, and a new channel
brings its own address rules. A kind nobody registered cannot be added (no channel serves it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from store.errors import Invalid


@dataclass(frozen=True)
class ContactKind:
    #: A ``people.models.ContactType`` value.
    kind: str
    #: The address in its one stored form; ValueError says what is wrong with it.
    normalise: Callable[[str], str]
    #: Whether a STOP from the address (``ContactMethod.sms_opted_out``) pauses this kind.
    opt_out: bool = False
    #: Said after a verification code: where to enter it.
    verify_hint: str = ""


_kinds: dict[str, ContactKind] = {}


def register(kind: ContactKind) -> None:
    """Register (or replace) the rules of one kind."""
    _kinds[kind.kind] = kind


def registered() -> frozenset[str]:
    return frozenset(_kinds)


def _of(kind: str) -> ContactKind:
    found = _kinds.get(kind)
    if found is None:
        raise Invalid("type", f"no channel serves {kind} contact methods")
    return found


def normalise_address(kind: str, address: str) -> str:
    """``address`` as stored for ``kind``; Invalid when it is not one."""
    rules = _of(kind)
    try:
        return rules.normalise(address)
    except ValueError as exc:
        raise Invalid("address", str(exc)) from exc


def opted_out(kind: str, sms_opted_out: bool) -> bool:
    """Whether a contact method is paused by a STOP from its address: the one rule for
    paging a tier, failing over, and test pages."""
    found = _kinds.get(kind)
    return sms_opted_out and (found is None or found.opt_out)


def verify_hint(kind: str) -> str:
    found = _kinds.get(kind)
    return found.verify_hint if found is not None else ""
