"""Client settings (env, file, priority) and the keyring token store."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from client.app.settings import ClientSettings, load_settings, save_settings
from client.core.auth import KEYRING_SERVICE, Session, TokenStore
from shared.api import StationMode, UserInfo


def test_every_setting_is_documented() -> None:
    """Each settings field carries a (Japanese) description from its docstring."""
    for name, field in ClientSettings.model_fields.items():
        assert field.description, name


def test_priority_cli_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Command line beats environment beats settings.json beats defaults."""
    (tmp_path / "settings.json").write_text(
        json.dumps({"server_url": "http://file", "lg_code": "011002", "request_timeout_s": 3}),
        encoding="utf-8",
    )
    monkeypatch.setenv("MADOGUCHI_CLIENT_LG_CODE", "131016")
    s = load_settings(data_dir=str(tmp_path))
    assert (s.server_url, s.lg_code, s.request_timeout_s) == ("http://file", "131016", 3)
    s = load_settings(data_dir=str(tmp_path), server_url="http://cli")
    assert s.server_url == "http://cli"
    assert load_settings(data_dir=str(tmp_path)).sync_backoff_cap_s == 300


def test_save_settings_round_trip(client_settings: ClientSettings) -> None:
    """The settings dialog's save writes settings.json, which the next start reads."""
    changed = client_settings.model_copy(update={"server_url": "https://madoguchi.example.lg.jp"})
    path = save_settings(changed)
    assert path.is_file()
    assert (
        load_settings(data_dir=str(client_settings.data_dir)).server_url == "https://madoguchi.example.lg.jp"
    )


def test_token_store_uses_keyring() -> None:
    """With a usable backend the token is written to the keyring under service 'madoguchi'."""
    store = TokenStore()
    assert store.persistent
    account = TokenStore.account("http://x/", "082104", "demo")
    store.save(account, "tok-1")
    assert keyring.get_password(KEYRING_SERVICE, account) == "tok-1"
    assert TokenStore().load(account) == "tok-1"
    store.delete(account)
    assert TokenStore().load(account) is None


def test_token_store_falls_back_to_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a usable keyring the token is kept in memory and persistent is False."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = TokenStore()
        assert not store.persistent
        store.save("a", "tok")
        assert store.load("a") == "tok"
        assert TokenStore().load("a") is None
    finally:
        keyring.set_keyring(previous)


def test_allowed_modes_need_station_and_permission() -> None:
    """A mode is offered only when the station profile lists it and the user holds mode.<name>."""
    user = UserInfo(
        id="61c7178c-8581-4917-8d12-7de876251740",  # type: ignore[arg-type]
        lg_code="082104",
        username="demo",
        display_name="デモ",
        permissions=["mode.counter", "mode.kiosk"],
        groups=[],
    )
    session = Session("http://x", "t", None, user)
    assert session.allowed_modes([StationMode.supervisor, StationMode.counter]) == [StationMode.counter]
    assert session.allowed_modes([StationMode.kiosk]) == [StationMode.kiosk]
