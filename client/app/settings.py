"""Client settings: environment (``MADOGUCHI_CLIENT_*``), the settings file, defaults.

Priority, highest first: command-line options, environment variables, ``settings.json`` in the
data directory (written by the settings dialog), the defaults below. Every field is documented:
the docstrings are what the settings dialog and the administrators' documentation show.
"""

from __future__ import annotations

import contextvars
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SETTINGS_FILE = "settings.json"
ENV_PREFIX = "MADOGUCHI_CLIENT_"
_file_values: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("_file_values", default={})  # noqa: B039


def default_data_dir() -> Path:
    """The per-user application data folder (Windows %LOCALAPPDATA%, macOS, XDG on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Madoguchi"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Madoguchi"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "madoguchi"


def default_station_dir() -> Path:
    """``device_profiles/stations`` next to the installed packages (repository or wheel)."""
    return Path(__file__).resolve().parents[2] / "device_profiles" / "stations"


class _FileSource(PydanticBaseSettingsSource):
    """Values read from settings.json (see :func:`load_settings`)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        values = _file_values.get()
        return values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in _file_values.get().items() if k in self.settings_cls.model_fields}


class ClientSettings(BaseSettings):
    """Settings of one counter, supervisor or kiosk terminal."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, use_attribute_docstrings=True, extra="ignore")

    server_url: str = "http://127.0.0.1:8000"
    """サーバーのURL（例: https://madoguchi.example.lg.jp）。"""

    lg_code: str = "082104"
    """この端末が属する自治体の全国地方公共団体コード（6桁）。ログイン画面の初期値。"""

    terminal_id: str = Field(default_factory=socket.gethostname)
    """端末ID。操作ログに記録される。既定はコンピューター名。"""

    data_dir: Path = Field(default_factory=default_data_dir)
    """送信待ちデータ・設定・ログを置くフォルダー。"""

    station: str = "counter"
    """端末の種類（device_profiles/stations/<id>.yaml の id）。使えるモードと機器を決める。"""

    station_dir: Path = Field(default_factory=default_station_dir)
    """端末プロファイル（YAML）のフォルダー。"""

    mode: str | None = None
    """起動時のモード（counter / supervisor / kiosk）。空なら端末プロファイルの既定。"""

    request_timeout_s: float = 10.0
    """サーバーへの1回の要求のタイムアウト（秒）。"""

    sync_poll_interval_s: float = 5.0
    """送信待ちを確認する間隔（秒）。"""

    sync_backoff_base_s: float = 2.0
    """送信に失敗したときの再送間隔の初期値（秒）。失敗のたびに倍になる。"""

    sync_backoff_cap_s: float = 300.0
    """再送間隔の上限（秒）。"""

    use_keyring: bool = True
    """ログイントークンをOSのキーリングに保存する。使えない場合はメモリ上のみ。"""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def drafts_path(self) -> Path:
        """入力途中の届出 (the counter screen's draft), kept until submitted or cleared."""
        return self.data_dir / "drafts.sqlite3"

    @property
    def settings_path(self) -> Path:
        return self.data_dir / SETTINGS_FILE


#: Fields the settings dialog lets the user change (and that are written to settings.json).
EDITABLE_FIELDS = (
    "server_url",
    "lg_code",
    "terminal_id",
    "station",
    "request_timeout_s",
    "sync_poll_interval_s",
    "sync_backoff_base_s",
    "sync_backoff_cap_s",
)


def _read_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def load_settings(**overrides: Any) -> ClientSettings:
    """Settings from overrides (command line) > environment > settings.json > defaults."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "data_dir" in overrides:
        data_dir = Path(overrides["data_dir"])
    elif os.environ.get(f"{ENV_PREFIX}DATA_DIR"):
        data_dir = Path(os.environ[f"{ENV_PREFIX}DATA_DIR"])
    else:
        data_dir = default_data_dir()
    token = _file_values.set(_read_file(data_dir))
    try:
        return ClientSettings(**overrides)
    finally:
        _file_values.reset(token)


def save_settings(settings: ClientSettings) -> Path:
    """Write the editable fields to settings.json in the data directory (atomically)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    values = settings.model_dump(mode="json", include=set(EDITABLE_FIELDS))
    path = settings.settings_path
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path
