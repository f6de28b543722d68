"""The outbox: what is owed to whom, claimed, bundled, sent through a channel, recorded."""
