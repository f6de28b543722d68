"""E-mail over SMTP: the mails and their signed action links."""
