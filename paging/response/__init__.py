"""Responding to incidents: acting on them, notifying a tier, who a tier reaches.

``actions`` acknowledges, resolves and escalates as a person (every way in, API, web, SMS,
voice, e-mail links, ends there); ``notify`` notifies a tier's people through the outbox and
steps on when due; ``tier_people`` turns a tier's targets into people and says why anyone cannot
be paged; ``reach`` answers who a policy would page now; ``notes`` and ``incident_lists`` are
what responders write and look through; ``replies_parse`` reads reply words (pure).
"""
