"""The log channel: stands in for every provider not configured, and its test phone."""
