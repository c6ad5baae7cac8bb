"""A memory-backed keyring for tests (CI has no Secret Service).

Selected with ``PYTHON_KEYRING_BACKEND=tests.client.keyring_backend.MemoryKeyring`` (set by
``tests/client/conftest.py``), so the real :mod:`keyring` code path of the token store is used.
"""

from __future__ import annotations

from typing import ClassVar

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Keeps passwords in a class-level dict for the life of the process."""

    priority = 1  # type: ignore[assignment]
    store: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
