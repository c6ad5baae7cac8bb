"""Server settings, read from the environment (prefix ``MADOGUCHI_``) and documented per field.

One :class:`Settings` object is built at start-up (``get_settings()`` caches the one read from the
environment), stored in ``app.state.settings`` and passed explicitly to everything that needs it.
Each field's docstring is the documentation an operator reads; ``python -m server`` shows them too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the server. Environment variables are ``MADOGUCHI_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(
        env_prefix="MADOGUCHI_",
        use_attribute_docstrings=True,
        extra="ignore",
        env_parse_none_str="",
    )

    data_dir: Path = Path("./var")
    """Folder for the SQLite database, the key file and blobs. Created when missing."""

    database_url: str = ""
    """SQLAlchemy async URL. Empty: ``sqlite+aiosqlite:///<data_dir>/madoguchi.db``.
    PostgreSQL: ``postgresql+psycopg://user@host/db`` (row-level security per municipality). The
    server should connect as ``db_app_role``; migrations run as the owner. A superuser would bypass
    row-level security."""

    db_app_role: str = "madoguchi_app"
    """PostgreSQL: the login role the application connects as (not the owner, not a superuser).
    The migrations grant it exactly the privileges it needs; audit rows only SELECT and INSERT."""

    demo: bool = False
    """Demo mode: creates a key file automatically and allows ``demo seed``. Never in production."""

    session_ttl_minutes: int = Field(default=600, ge=1)
    """How long a login token stays valid (minutes). One counter shift by default."""

    lockout_threshold: int = Field(default=5, ge=1)
    """Failed logins in a row after which the account is locked."""

    lockout_minutes: int = Field(default=30, ge=1)
    """How long a locked account stays locked (minutes)."""

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest JSON request body accepted (bytes); larger bodies get 413."""

    lgwan_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )
    """Networks treated as inside LGWAN (CIDR list, JSON in the environment). Staff logins from
    inside need no allow-list; from anywhere else only from the municipality's allowed networks
    and only with the second factor (TOTP)."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Reverse proxies (CIDR list) whose ``X-Forwarded-For`` header is believed for the client IP."""

    key_file: Path | None = None
    """JSON key file ``{"current": id, "keys": {id: base64}, "hmac_key": base64}`` for 個人番号 and
    TOTP secrets. Empty: ``<data_dir>/keys.json``. Create it with ``python -m server keys generate``."""

    log_level: str = "INFO"
    """Python logging level of the server."""

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'madoguchi.db'}"
        elif self.database_url.startswith(("postgresql://", "postgres://")):
            self.database_url = "postgresql+psycopg://" + self.database_url.split("://", 1)[1]
        elif self.database_url.startswith("sqlite:///"):
            self.database_url = "sqlite+aiosqlite:///" + self.database_url.split(":///", 1)[1]
        if self.key_file is None:
            self.key_file = self.data_dir / "keys.json"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def key_path(self) -> Path:
        assert self.key_file is not None
        return self.key_file


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings read from the environment, built once per process."""
    return Settings()
