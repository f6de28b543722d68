"""Events in: every source of incidents, through one entry point.

``trigger.ingest`` counts a repeat of an open incident (``repeats``: the one statement, per
database) or opens an incident; the sources call it: PagerDuty's Events API (``pagerduty``),
Alertmanager (``alertmanager``), heartbeat monitors (``heartbeats``) and the incidents API.
Whether a new incident pages at once is decided by ``holds`` (``maintenance`` windows,
``support_hours``); ``change_events`` are kept beside incidents and never page. The engine's
timers of this room are in ``jobs``; its tables in ``models``.
"""
