"""Twilio's channel type: SMS and voice calls to E.164 numbers.

SMS pages carry reply codes and a short signed link; storms are bundled (a phone takes one call
at a time); delivery receipts come back to ``/webhooks/twilio/status/{notification}``; a number
that replied STOP (or that Twilio reports opted out, error 21610) gets no more SMS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from paging.outbox import outgoing
from paging.outbox.channel import Channel, Outgoing
from paging.outbox.channel_type import ChannelType
from paging.providers.twilio import codes, short_links
from paging.providers.twilio.twiml import SpokenIncident, bundle_speech, page_speech
from people import validation
from store.db import Database
from store.settings import Settings

SMS, VOICE = "sms", "voice"
VOICE_MENU = "Press 4 to acknowledge, 5 to escalate, 6 to resolve, star to repeat."


def normalise(settings: Settings, kind: str, address: str) -> str:
    return validation.e164_phone(address)


def build(database: Database, settings: Settings) -> Mapping[str, Channel]:
    """The SMS and voice channels (the Twilio SDK is loaded only when Twilio is configured)."""
    if not settings.twilio_enabled:
        return {}
    from paging.providers.twilio.client import TwilioApi
    from paging.providers.twilio.inbound import set_sms_opt_out
    from paging.providers.twilio.sms import TwilioSmsChannel
    from paging.providers.twilio.voice import TwilioVoiceChannel

    def opted_out(address: str) -> None:
        with database.transaction() as session:
            set_sms_opt_out(session, address, True, "twilio:21610")

    api = TwilioApi(settings)
    return {
        SMS: TwilioSmsChannel(api, on_opted_out=opted_out),
        VOICE: TwilioVoiceChannel(api, settings.public_url),
    }


def _speech(message: Outgoing) -> str:
    if message.text is not None or not message.incidents:
        return message.text or ""
    spoken = [SpokenIncident(i.number, i.severity, i.service, i.title) for i in message.incidents]
    if len(spoken) == 1:
        first = spoken[0]
        return (
            f"{page_speech(first.number, first.severity, first.service, first.title)} {VOICE_MENU}"
        )
    return f"{bundle_speech(spoken)} {VOICE_MENU}"


def render(message: Outgoing) -> str:
    """The SMS bodies, or what the call says and its keys."""
    if message.channel == VOICE:
        return _speech(message)
    from paging.providers.twilio import sms  # loads the Twilio SDK

    return "\n\n".join(sms.render(message))


def decorators(settings: Settings) -> Sequence[outgoing.Decorator]:
    """SMS reply codes and short signed links."""
    return (codes.decorate, short_links.decorator(settings))


def status_url(settings: Settings, notification_id: str) -> str:
    return f"{settings.public_url}/webhooks/twilio/status/{notification_id}"


TWILIO = ChannelType(
    name="twilio",
    kinds=(SMS, VOICE),
    normalise=normalise,
    configured=lambda settings: settings.twilio_enabled,
    build=build,
    render=render,
    decorators=decorators,
    status_url=status_url,
    bundled=frozenset({SMS, VOICE}),
    one_at_a_time=frozenset({VOICE}),
    opt_out=frozenset({SMS}),
    verify_hint=". Enter it where you added this number.",
    inbound_routes=(
        "/webhooks/twilio/sms",
        "/webhooks/twilio/voice/{notification_id}",
        "/webhooks/twilio/status/{notification_id}",
        "/l/{token}",
    ),
)
