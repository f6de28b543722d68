"""The outbox: every outbound message is a row before it is a provider call."""
