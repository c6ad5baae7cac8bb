"""法人番号 autofill: check the number (check digit, shared), ask the configured lookup plugin.

:class:`Guard` (one per application, in ``app.state``) stands in front of the plugin: a per-client
rate limit (``corporate_lookup_per_minute``, a token bucket per IP address) so that the public
route cannot be used to hammer 国税庁's Web-API with our アプリケーションID, and a short cache of
answers (``corporate_lookup_cache_seconds``) so that a resident pressing 検索 again, or many
residents of the same company, cost one call.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from server.config import Settings
from server.plugins.corporate import CorporateLookup, Corporation, registry
from shared.errors import NotFound, TooManyRequests
from shared.text.checkdigit import normalize_corporate_number

NOT_FOUND = "この法人番号の法人は見つかりませんでした。番号を確認するか、名称と所在地を直接入力してください。"
CLOSED = "この法人番号の法人は登記記録が閉鎖されています。番号を確認してください。"
TOO_MANY = (
    "法人番号の検索が短時間に続いたため、受け付けられませんでした。"
    "1分ほど待ってからもう一度お試しいただくか、名称と所在地を直接入力してください。"
)
#: Bounds of the guard's memory, whatever a client sends.
MAX_CLIENTS = 10_000
MAX_ANSWERS = 5_000


def lookup_plugin(settings: Settings) -> CorporateLookup:
    return registry.create(settings.corporate_lookup, settings)


def notice(settings: Settings) -> str:
    """The credit the configured service requires next to its data (empty for the sandbox)."""
    return registry.get(settings.corporate_lookup).notice


class Guard:
    """Rate limit per client and cache of answers in front of the lookup plugin (one process)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.rate = settings.corporate_lookup_per_minute
        self.ttl = settings.corporate_lookup_cache_seconds
        #: client → (tokens left, when counted)
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        #: number → (valid until, the corporation or None for "no such corporation")
        self.answers: OrderedDict[str, tuple[float, Corporation | None]] = OrderedDict()
        self.calls = 0  # lookups that reached the plugin

    def take(self, client: str | None) -> None:
        """Count one lookup of ``client``; TooManyRequests once its minute's allowance is used up."""
        key = client or "?"
        now = self.clock()
        tokens, at = self.buckets.pop(key, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - at) * self.rate / 60)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            raise TooManyRequests(TOO_MANY, code="corporate.rate_limited")
        self.buckets[key] = (tokens - 1, now)
        while len(self.buckets) > MAX_CLIENTS:  # the least recently seen client is forgotten
            self.buckets.popitem(last=False)

    async def find(self, text: str, client: str | None) -> Corporation:
        """The corporation of ``text`` (TooManyRequests, InvalidInput, NotFound or LookupUnavailable)."""
        self.take(client)
        number = normalize_corporate_number(text[:40])
        now = self.clock()
        hit = self.answers.get(number)
        if hit is not None and hit[0] > now:
            found = hit[1]
        else:
            self.calls += 1
            found = await lookup_plugin(self.settings).lookup(number)  # errors are not kept
            if self.ttl:
                self.answers.pop(number, None)
                self.answers[number] = (now + self.ttl, found)
                while len(self.answers) > MAX_ANSWERS:
                    self.answers.popitem(last=False)
        if found is None:
            raise NotFound(NOT_FOUND, code="corporate.not_found")
        return found


def guard_of(state: Any) -> Guard:
    """The application's guard (``app.state``), made on first use from its settings."""
    guard = state.get("corporate_guard")
    if not isinstance(guard, Guard):
        guard = Guard(state["settings"])
        state["corporate_guard"] = guard
    return guard


async def find(settings: Settings, text: str) -> Corporation:
    """The corporation of ``text`` straight from the plugin, without limit or cache (CLI, tests)."""
    number = normalize_corporate_number(text[:40])
    found = await lookup_plugin(settings).lookup(number)
    if found is None:
        raise NotFound(NOT_FOUND, code="corporate.not_found")
    return found
