"""Responding to incidents: acting on them (ack, resolve, escalate), notifying a tier."""
