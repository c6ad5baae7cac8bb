"""Signing apps: how a resident's JPKI signature reaches the server (one family of the registry).

``sandbox`` signs on a page of this server with a generated test certificate (demo and tests);
``digital_auth_app`` is the adapter for the デジタル認証アプリ サービスAPI of the Digital
Agency (see ``docs/eforms.md`` for what a municipality configures).
"""

from __future__ import annotations

from server.plugins.jpki.base import (
    APP_MESSAGES,
    SigningApp,
    SigningAppFailed,
    SigningUnavailable,
    SignStart,
    app_failed,
    registry,
    wrap_raw_signature,
)

__all__ = [
    "APP_MESSAGES",
    "SignStart",
    "SigningApp",
    "SigningAppFailed",
    "SigningUnavailable",
    "app_failed",
    "registry",
    "wrap_raw_signature",
]
