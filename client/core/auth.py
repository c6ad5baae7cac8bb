"""Login session and the token store.

The opaque session token is kept with :mod:`keyring` (service ``madoguchi``) so that a restart of
the client does not lose a running session. Where the system has no usable keyring (a Linux box
without Secret Service, CI) the token is kept in memory only and :attr:`TokenStore.persistent` is
False; the UI says so in Japanese (:data:`MEMORY_ONLY_NOTICE`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from shared.api import LoginRequest, LoginResponse, StationMode, UserInfo
from shared.permissions import Permission

from .api import ApiClient

log = logging.getLogger(__name__)

KEYRING_SERVICE = "madoguchi"
MEMORY_ONLY_NOTICE = "安全な保存先（キーリング）が使えないため、ログイン情報はメモリ上にのみ保持しています。"

MODE_PERMISSIONS: dict[StationMode, Permission] = {
    StationMode.counter: Permission.mode_counter,
    StationMode.supervisor: Permission.mode_supervisor,
    StationMode.kiosk: Permission.mode_kiosk,
}

MODE_LABELS: dict[StationMode, str] = {
    StationMode.counter: "窓口",
    StationMode.supervisor: "管理者",
    StationMode.kiosk: "キオスク",
}


def _usable_keyring() -> object | None:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # any import/initialisation problem means "no keyring"
        log.warning("keyring unavailable", exc_info=True)
        return None
    if isinstance(backend, fail.Keyring):
        return None
    priority = getattr(backend, "priority", 1)
    try:
        if float(priority) <= 0:
            return None
    except (TypeError, ValueError):
        pass
    return backend


class TokenStore:
    """Keeps one token per (server, municipality, user) in the keyring, or in memory as fallback."""

    def __init__(self, *, use_keyring: bool = True) -> None:
        self._backend = _usable_keyring() if use_keyring else None
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def persistent(self) -> bool:
        """True when tokens survive a restart (a real keyring backend is in use)."""
        return self._backend is not None

    @staticmethod
    def account(server_url: str, lg_code: str, username: str) -> str:
        return f"{lg_code}:{username}@{server_url.rstrip('/')}"

    def save(self, account: str, token: str) -> None:
        with self._lock:
            self._memory[account] = token
            if self._backend is not None:
                try:
                    self._backend.set_password(KEYRING_SERVICE, account, token)  # type: ignore[attr-defined]
                except Exception:
                    log.warning("keyring write failed; keeping the token in memory", exc_info=True)
                    self._backend = None

    def load(self, account: str) -> str | None:
        with self._lock:
            if account in self._memory:
                return self._memory[account]
            if self._backend is None:
                return None
            try:
                token = self._backend.get_password(KEYRING_SERVICE, account)  # type: ignore[attr-defined]
            except Exception:
                log.warning("keyring read failed", exc_info=True)
                return None
            return str(token) if token else None

    def delete(self, account: str) -> None:
        with self._lock:
            self._memory.pop(account, None)
            if self._backend is not None:
                try:
                    self._backend.delete_password(KEYRING_SERVICE, account)  # type: ignore[attr-defined]
                except Exception:  # already absent or backend failure: nothing to keep
                    log.debug("keyring delete failed", exc_info=True)


@dataclass(frozen=True)
class Session:
    """A logged-in user at this terminal."""

    server_url: str
    token: str
    expires_at: datetime | None
    user: UserInfo

    def has(self, permission: Permission) -> bool:
        return permission.value in self.user.permissions

    def allowed_modes(self, station_modes: list[StationMode]) -> list[StationMode]:
        """The modes both the station profile and the user's permissions allow, in station order."""
        return [m for m in station_modes if self.has(MODE_PERMISSIONS[m])]


def login(
    api: ApiClient,
    store: TokenStore,
    *,
    lg_code: str,
    username: str,
    password: str,
    totp_code: str | None = None,
    terminal_id: str | None = None,
) -> Session:
    """Log in against the server and keep the token; raises shared.errors on failure."""
    answer: LoginResponse = api.login(
        LoginRequest(
            lg_code=lg_code.strip(),
            username=username.strip(),
            password=password,
            totp_code=(totp_code or "").strip() or None,
            terminal_id=terminal_id,
        )
    )
    store.save(TokenStore.account(api.base_url, answer.user.lg_code, answer.user.username), answer.token)
    return Session(
        server_url=api.base_url, token=answer.token, expires_at=answer.expires_at, user=answer.user
    )
