"""Outgoing webhooks: a JSON page, signed, POSTed to a URL; ack / resolve by signed callbacks."""
