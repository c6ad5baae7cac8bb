"""法人番号 autofill: check the number (check digit, shared), ask the configured lookup plugin."""

from __future__ import annotations

from server.config import Settings
from server.plugins.corporate import CorporateLookup, Corporation, registry
from shared.errors import NotFound
from shared.text.checkdigit import normalize_corporate_number

NOT_FOUND = "この法人番号の法人は見つかりませんでした。番号を確認するか、名称と所在地を直接入力してください。"
CLOSED = "この法人番号の法人は登記記録が閉鎖されています。番号を確認してください。"


def lookup_plugin(settings: Settings) -> CorporateLookup:
    return registry.create(settings.corporate_lookup, settings)


def notice(settings: Settings) -> str:
    """The credit the configured service requires next to its data (empty for the sandbox)."""
    return registry.get(settings.corporate_lookup).notice


async def find(settings: Settings, text: str) -> Corporation:
    """The corporation of ``text`` (InvalidInput, NotFound or LookupUnavailable otherwise)."""
    number = normalize_corporate_number(text[:40])
    found = await lookup_plugin(settings).lookup(number)
    if found is None:
        raise NotFound(NOT_FOUND, code="corporate.not_found")
    return found
