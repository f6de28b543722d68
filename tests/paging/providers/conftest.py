"""Providers end to end: the live service (uvicorn with its engine), the Twilio fake and a real
SMTP server, as in ``tests/twoway``."""

from tests.twoway.conftest import live, mailbox, twilio

__all__ = ["live", "mailbox", "twilio"]
