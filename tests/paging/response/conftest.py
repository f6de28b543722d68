"""The live service with the Twilio fake and a mailbox (``live``, ``twilio``, ``mailbox``), as
in ``tests/twoway``: the end-to-end tests of this room send through real providers."""

from tests.twoway.conftest import live, mailbox, twilio

__all__ = ["live", "mailbox", "twilio"]
