"""Real-HTTP fakes of external services for tests."""
