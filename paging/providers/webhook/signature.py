"""The signature of a webhook page, and the key it is signed with.

Header ``Watchbill-Signature: t=<unix seconds>,v1=<hex>``, where ``hex`` is HMAC-SHA256 of
``"<t>.<body>"`` under the contact method's key (Stripe / Slack style): a receiver recomputes it,
compares in constant time, and refuses an old ``t`` (a replay).

The key is derived from the server secret for one contact method
(``derive(secret, "webhook:<contact method id>")``, hex): nothing to store, the same in every
process, different for every endpoint. Only the contact method's owner may read it
(:func:`key_for_owner`); an admin manages the method but is not shown its key.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy.orm import Session

from paging.server_secret import derive, server_secret
from people.contacts import get_contact_method
from people.models import ContactType
from store.audit import Actor
from store.errors import Conflict, Forbidden
from store.settings import Settings

HEADER = "Watchbill-Signature"
PURPOSE = "webhook:"


def key(secret: bytes, contact_method_id: str) -> str:
    """The signing key of one webhook contact method."""
    return derive(secret, PURPOSE + contact_method_id).hex()


def sign(key: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def key_for_owner(
    session: Session, settings: Settings, actor: Actor, contact_method_id: str, now: datetime
) -> str:
    """The key of the actor's own webhook contact method (need to know: its owner only)."""
    cm = get_contact_method(session, contact_method_id)
    if actor.user_id != cm.user_id:
        raise Forbidden("only the owner of a webhook may read its signing key")
    if cm.type is not ContactType.webhook:
        raise Conflict("this contact method is not a webhook: it has no signing key")
    secret = server_secret(session, settings, now)
    assert secret is not None
    return key(secret, cm.id)
