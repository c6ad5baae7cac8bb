"""argon2id password hashing (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

#: Staff passwords (CLI ``user create``, the console's own password change): at least this long.
STAFF_MIN_LENGTH = 8
#: Longer input is refused before hashing (argon2 over megabytes of text is a cheap attack).
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown users so that the answer takes as long as for known ones."""
    return _hasher.hash("madoguchi-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with ``None`` runs a dummy check and returns False."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
