"""Providers: one folder per channel (Twilio, e-mail, the log, webhooks), wired in ``registry``."""
