"""Routes of events in: PagerDuty Events API v1/v2 and Alertmanager (``events``), change events,
heartbeat monitors and their ping URLs, maintenance windows."""
