"""Paging: from an event in to a person reached and their answer acted on, in rooms.

- ``intake``: events in (PagerDuty, Alertmanager, change events, heartbeats), maintenance,
  holds and support hours; ``intake.trigger.ingest`` counts a repeat or opens an incident.
- ``response``: acting on incidents (acknowledge, resolve, escalate), notifying a tier's
  people, who a tier reaches, reply words.
- ``outbox``: every outbound message as a row, claimed under a lease, bundled in a storm, sent
  through a channel, its result recorded, failed over.
- ``providers``: one folder per channel (Twilio, e-mail, the log, webhooks), each registering one
  channel-type descriptor in ``providers.registry``.
- ``engine``: the loop that runs the rooms' jobs when they fall due, and wakes on commits.

Shared by the rooms: ``links`` (signed action links), ``details_text`` (an incident's details
as text), ``server_secret`` (the signing secret).
"""
