"""Twilio: SMS and voice out, replies, key presses and delivery receipts in."""
