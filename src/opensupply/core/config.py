"""Settings read from OPENSUPPLY_* environment variables (and a .env file)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opensupply"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENSUPPLY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    # Used to sign nothing security-critical on its own (sessions are server-side);
    # kept stable across restarts by being stored in the data dir when not given.
    secret_key: str | None = None
    demo_password: str | None = None
    default_locale: str = "zh_CN"
    session_idle_minutes: int = 120
    session_absolute_hours: int = 24
    api_token_hours: int = 12
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    cookie_secure: bool = False
    max_upload_mb: int = 20

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'opensupply.db'}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
