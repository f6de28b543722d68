"""Service configuration from ``WATCHBILL_*`` environment variables (and an optional ``.env``).

Every setting the code reads is a field here, and the README's configuration table lists
each one once with its default (``tests/store/test_settings_documented.py`` compares them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./watchbill.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


class Settings(BaseSettings):
    """Everything the service reads from its environment. Names match the public contract."""

    model_config = SettingsConfigDict(
        env_prefix="WATCHBILL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    #: Unset, ``watchbill serve`` uses ``http://<--host>:<--port>`` (see ``public_url_is_set``).
    public_url: str = DEFAULT_PUBLIC_URL
    admin_token: SecretStr | None = None
    # Outbound fetches (calendar imports, webhooks) may reach loopback and private networks
    # (tests, closed networks); off by default: see ``store.outbound``.
    allow_private_urls: bool = False
    # Signs e-mail action links (extension of the contract); unset: generated once and kept
    # in the database (``server_secrets``), so links survive restarts.
    secret_key: SecretStr | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    # How long to wait for Twilio's answer (extension of the contract). A request that timed
    # out may have gone out: it is looked up before it is sent again.
    twilio_timeout_seconds: float = 10.0

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    # Web UI sessions (extensions of the contract): a session ends after this many minutes
    # without a request, and this many hours after signing in whatever happens.
    web_session_idle_minutes: int = 720
    web_session_max_hours: int = 168

    # Engine tuning (extensions of the contract).
    engine_sweep_seconds: float = 5.0
    engine_lease_seconds: float = 30.0
    # Alert storms: more than ``page_burst`` messages to one address within the window are
    # bundled into one message listing the incidents.
    page_burst: int = 3
    page_burst_window_seconds: float = 30.0
    page_bundle_interval_seconds: float = 60.0

    # Events in: a token bucket per integration key and API process (rate 0 turns it off).
    events_rate_per_minute: float = 1200.0
    events_burst: int = 300

    #: ``text`` (one line per record) or ``json`` (one JSON object per line).
    log_format: Literal["text", "json"] = "text"

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def public_url_is_set(self) -> bool:
        """Whether ``WATCHBILL_PUBLIC_URL`` (or the caller) chose the public URL."""
        return "public_url" in self.model_fields_set

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    @property
    def https(self) -> bool:
        """Whether the outside world reaches us over https (cookies are then Secure)."""
        return self.public_url.lower().startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
