"""Which channel delivers each contact type, from the settings."""

from __future__ import annotations

from paging import codes, links, sms_links
from paging.channels.base import Channel
from paging.outbox import outgoing
from store.db import Database
from store.settings import Settings


def build_channels(database: Database, settings: Settings) -> dict[str, Channel]:
    """Configured providers by contact type; a type left out goes to the log channel."""
    channels: dict[str, Channel] = {}
    if settings.twilio_enabled:
        from paging.channels.twilio_client import TwilioApi
        from paging.channels.twilio_sms import TwilioSmsChannel
        from paging.channels.twilio_voice import TwilioVoiceChannel
        from paging.replies import set_sms_opt_out

        def opted_out(address: str) -> None:
            with database.transaction() as session:
                set_sms_opt_out(session, address, True, "twilio:21610")

        api = TwilioApi(settings)
        channels["sms"] = TwilioSmsChannel(api, on_opted_out=opted_out)
        channels["voice"] = TwilioVoiceChannel(api, settings.public_url)
    if settings.smtp_enabled:
        from paging.channels.smtp import SmtpChannel

        channels["email"] = SmtpChannel(settings)
    return channels


def build_decorators(settings: Settings) -> list[outgoing.Decorator]:
    """Per-incident additions to outgoing messages: SMS reply codes and short signed links,
    signed e-mail links."""
    return [codes.decorate, links.decorator(settings), sms_links.decorator(settings)]
