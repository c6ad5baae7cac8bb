"""Client test fixtures. Nothing here imports Qt (UI fixtures live in the UI test modules).

The keyring backend is the memory one of :mod:`tests.client.keyring_backend`, selected through
``PYTHON_KEYRING_BACKEND`` before anything asks keyring for its backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

os.environ["PYTHON_KEYRING_BACKEND"] = "tests.client.keyring_backend.MemoryKeyring"

from client.app.settings import ClientSettings, load_settings
from client.core.outbox import Outbox
from shared.text.checkdigit import my_number_check_digit, resident_code_check_digit

VALID_MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))
VALID_RESIDENT_CODE = "1234567890" + str(resident_code_check_digit("1234567890"))


def move_in_form(**person: Any) -> dict[str, Any]:
    """A complete 転入 form as the counter screen hands it over (strings, 和暦 dates)."""
    p = {
        "family_name": "試験",
        "given_name": "太郎",
        "family_name_kana": "シケン",
        "given_name_kana": "タロウ",
        "birth_date": "昭和55年4月1日",
        "sex": "1",
        "relationship": "世帯主",
        "resident_code": VALID_RESIDENT_CODE,
        "my_number": VALID_MY_NUMBER,
    }
    p.update(person)
    return {
        "kind": "move_in",
        "notified_on": date.today().isoformat(),
        "moved_on": "R6.4.1",
        "notifier": {"name": "試験　太郎", "standing": "self", "phone": ""},
        "new_address": {
            "postal_code": "3040067",
            "prefecture": "茨城県",
            "municipality": "下妻市",
            "town": "本城町二丁目",
            "block_number": "22番地",
            "building": "",
        },
        "old_address": {
            "postal_code": "100-0001",
            "prefecture": "東京都",
            "municipality": "千代田区",
            "town": "千代田",
            "block_number": "1番1号",
            "building": "",
        },
        "persons": [p],
    }


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def client_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClientSettings:
    """Settings in a fresh data directory, no environment leaking in."""
    for key in list(os.environ):
        if key.startswith("MADOGUCHI_CLIENT_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=str(tmp_path / "client"), terminal_id=f"test-{uuid.uuid4().hex[:6]}")
