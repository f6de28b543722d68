"""Service configuration from ``WATCHBILL_*`` environment variables (and an optional ``.env``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./watchbill.db"


class Settings(BaseSettings):
    """Everything the service reads from its environment. Names match the public contract."""

    model_config = SettingsConfigDict(
        env_prefix="WATCHBILL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://127.0.0.1:8080"
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

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    # Engine tuning (extensions of the contract).
    engine_sweep_seconds: float = 5.0
    engine_lease_seconds: float = 30.0
    # Alert storms: more than ``page_burst`` messages to one address within the window are
    # bundled into one message listing the incidents.
    page_burst: int = 3
    page_burst_window_seconds: float = 30.0
    page_bundle_interval_seconds: float = 60.0

    @field_validator("public_url", "twilio_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
