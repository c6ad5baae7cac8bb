"""The key ring: AES-GCM for 個人番号 and TOTP secrets, HMAC-SHA256 for equality search.

Key file (JSON, readable only by the server account)::

    {"current": "k20261122", "keys": {"k20261122": "<base64 32 bytes>"}, "hmac_key": "<base64 32 bytes>"}

``current`` encrypts; every id in ``keys`` can still decrypt, so a key is rotated by adding a new
one and making it current. The stored ciphertext carries its key id. ``hmac_key`` is separate
from the encryption keys and is not rotated (it would break equality search of stored rows).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.errors import MadoguchiError

_NONCE = 12


class KeyFileError(MadoguchiError):
    code = "keys.unavailable"
    http_status = 503
    default_message = "暗号鍵ファイルを読み込めません。管理者に連絡してください。"


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: dict[str, bytes]
    hmac_key: bytes

    def encrypt(self, plaintext: str, aad: str) -> tuple[bytes, str]:
        """``(nonce + ciphertext, key id)`` of ``plaintext``; ``aad`` binds it to its row."""
        nonce = os.urandom(_NONCE)
        data = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), aad.encode())
        return nonce + data, self.current

    def decrypt(self, blob: bytes, key_id: str, aad: str) -> str:
        try:
            key = self.keys[key_id]
        except KeyError:
            raise KeyFileError("暗号鍵が見つかりません (鍵ID不明)。管理者に連絡してください。") from None
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], aad.encode()).decode()

    def search_hash(self, value: str, *, purpose: str) -> str:
        """Keyed HMAC-SHA256 (hex) for equality search; ``purpose`` separates domains."""
        return hmac.new(self.hmac_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def generate_key_file(path: Path) -> str:
    """Write a new key file (refuses to overwrite). Returns the key id."""
    if path.exists():
        raise FileExistsError(path)
    key_id = "k" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    content = {
        "current": key_id,
        "keys": {key_id: base64.b64encode(secrets.token_bytes(32)).decode()},
        "hmac_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(content, fh, indent=2)
    return key_id


def load_key_ring(path: Path, *, create: bool = False) -> KeyRing:
    """Read the key file; with ``create`` (demo mode) make one first if it is missing."""
    if create and not path.exists():
        with contextlib.suppress(FileExistsError):  # another process was quicker
            generate_key_file(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        keys = {k: base64.b64decode(v) for k, v in raw["keys"].items()}
        ring = KeyRing(current=raw["current"], keys=keys, hmac_key=base64.b64decode(raw["hmac_key"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(
            f"暗号鍵ファイル ({path.name}) を読み込めません。"
            "python -m server keys generate で作成してください。"
        ) from exc
    if ring.current not in ring.keys or any(len(k) != 32 for k in ring.keys.values()):
        raise KeyFileError("暗号鍵ファイルの内容が正しくありません。")
    return ring
