"""Dependencies every domain may ask for: settings, database, key ring.

They come from ``app.state`` (set by :func:`server.app.create_app`) and the request state (set by
the access guard; the principal is provided by the accounts domain); nothing here is a module-level global.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from server.config import Settings
from server.crypto import KeyRing, load_key_ring
from server.db.engine import Database


def provide_settings(state: State) -> Settings:
    return state.settings  # type: ignore[no-any-return]


def provide_db(state: State) -> Database:
    return state.db  # type: ignore[no-any-return]


def key_ring(state: State) -> KeyRing:
    """The key ring, loaded on first use (created automatically in demo mode)."""
    ring: KeyRing | None = state.get("key_ring")
    if ring is None:
        settings: Settings = state.settings
        ring = load_key_ring(settings.key_path, create=settings.demo)
        state.key_ring = ring
    return ring


def optional_key_ring(state: State) -> KeyRing | None:
    """The key ring if it can be loaded, else None (login of users without TOTP still works)."""
    try:
        return key_ring(state)
    except Exception:
        return None


DEPENDENCIES = {
    "settings": Provide(provide_settings, sync_to_thread=False),
    "db": Provide(provide_db, sync_to_thread=False),
}
