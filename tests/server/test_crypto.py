"""Key ring: AES-GCM with key ids for rotation, AAD binding, keyed search hash; migration drift check."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from server.config import Settings
from server.crypto import KeyFileError, generate_key_file, load_key_ring
from server.db.migrate import differences
from tests.server.conftest import VALID_MY_NUMBER, Api, count_rows, reception_body


def test_rotation_keeps_old_ciphertexts_readable(tmp_path: Path) -> None:
    """After adding a new current key, data encrypted with the old key id still decrypts."""
    path = tmp_path / "keys.json"
    old_id = generate_key_file(path)
    ring = load_key_ring(path)
    blob, key_id = ring.encrypt(VALID_MY_NUMBER, "aad")
    content = json.loads(path.read_text())
    content["keys"]["k-new"] = base64.b64encode(b"\x01" * 32).decode()
    content["current"] = "k-new"
    path.write_text(json.dumps(content))
    rotated = load_key_ring(path)
    assert key_id == old_id
    assert rotated.decrypt(blob, key_id, "aad") == VALID_MY_NUMBER
    assert rotated.encrypt(VALID_MY_NUMBER, "aad")[1] == "k-new"


def test_aad_binds_ciphertext_to_its_row(tmp_path: Path) -> None:
    """A ciphertext copied to another row (other AAD) does not decrypt."""
    generate_key_file(tmp_path / "keys.json")
    ring = load_key_ring(tmp_path / "keys.json")
    blob, key_id = ring.encrypt(VALID_MY_NUMBER, "my_number:082104:a:0")
    with pytest.raises(InvalidTag):
        ring.decrypt(blob, key_id, "my_number:082104:b:0")


def test_search_hash_is_keyed(tmp_path: Path) -> None:
    """The equality hash depends on the key: two key files give different hashes for one number."""
    generate_key_file(tmp_path / "a.json")
    generate_key_file(tmp_path / "b.json")
    a = load_key_ring(tmp_path / "a.json").search_hash(VALID_MY_NUMBER, purpose="my_number")
    b = load_key_ring(tmp_path / "b.json").search_hash(VALID_MY_NUMBER, purpose="my_number")
    assert a != b and VALID_MY_NUMBER not in a


def test_missing_key_file_is_a_japanese_error(tmp_path: Path) -> None:
    """Outside demo mode a missing key file is an error that says how to create one."""
    with pytest.raises(KeyFileError, match="keys generate"):
        load_key_ring(tmp_path / "keys.json")


async def test_reception_without_key_file_stores_nothing(
    settings: Settings, make_api: Callable[..., Api]
) -> None:
    """Without a key file (production mode) a reception with a 個人番号 gets 503 and nothing is stored."""
    settings.key_path.unlink()
    api = make_api(demo=False)
    try:
        r = await api.http.post("/api/v1/receptions", json=reception_body(), headers=await api.headers())
        assert r.status_code == 503
        assert r.json()["code"] == "keys.unavailable"
        assert await count_rows(api.db, "receptions") == 0
    finally:
        await api.close()


def test_drift_between_models_and_database_detected(settings: Settings) -> None:
    """differences() (db check) reports a column missing from the database."""
    assert differences(settings) == []
    with sqlite3.connect(settings.data_dir / "madoguchi.db") as conn:
        conn.execute("ALTER TABLE network_allowances DROP COLUMN note")
    assert differences(settings) != []
