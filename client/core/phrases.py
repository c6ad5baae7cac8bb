"""語句登録 on the client, Qt-free: the phrase book the picker filters, kept as a local copy so the
picker works while the server is unreachable.

The copy is one JSON file per server, municipality and user in the client data directory,
replaced atomically (write, fsync, rename) after each successful download. :func:`filter_phrases`
matches what the clerk types against the 略号 (prefix), the 読み (prefix, folded like every search
key: width, kana, long vowels) and the text itself (anywhere).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from shared.api_counter import PhraseList, PhraseRead, PhraseScope
from shared.errors import MadoguchiError
from shared.text.normalize import search_key

from .api import ApiClient
from .files import write_bytes_atomic

CACHE_DIR = "phrases"


@dataclass(frozen=True)
class PhraseBook:
    """The phrases offered, where they came from and whether shared ones may be edited."""

    items: list[PhraseRead]
    can_manage_office: bool = False
    offline: bool = False
    #: The Japanese reason the server could not be used (when ``offline``).
    problem: str = ""


def cache_path(data_dir: Path, server_url: str, lg_code: str, username: str) -> Path:
    digest = hashlib.sha256(f"{server_url.rstrip('/')}|{lg_code}|{username}".encode()).hexdigest()[:24]
    return data_dir / CACHE_DIR / f"{digest}.json"


def save_cache(path: Path, phrases: PhraseList) -> None:
    """Replace the local copy atomically (a crash leaves the old copy or the new one)."""
    write_bytes_atomic(path, phrases.model_dump_json().encode("utf-8"))


def load_cache(path: Path) -> PhraseList | None:
    """The local copy, or None when there is none or it cannot be read."""
    try:
        return PhraseList.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def fetch(api: ApiClient, path: Path) -> PhraseBook:
    """Download the phrases and keep the copy; on a server or network failure use the copy."""
    try:
        phrases = api.list_phrases()
    except MadoguchiError as exc:
        cached = load_cache(path)
        if cached is None:
            raise
        return PhraseBook(cached.items, cached.can_manage_office, offline=True, problem=exc.message)
    save_cache(path, phrases)
    return PhraseBook(phrases.items, phrases.can_manage_office)


def filter_phrases(items: list[PhraseRead], query: str) -> list[PhraseRead]:
    """Phrases matching ``query``: 略号 prefix first, then 読み prefix, then text containing it."""
    if not query.strip():
        return sorted(items, key=lambda p: (search_key(p.reading), p.scope is PhraseScope.office, p.text))
    q = search_key(query)
    raw = query.strip().lower()
    ranked: list[tuple[int, str, bool, str, PhraseRead]] = []
    for p in items:
        reading = search_key(p.reading)
        if p.key and p.key.startswith(raw):
            rank = 0 if p.key == raw else 1
        elif q and reading.startswith(q):
            rank = 2
        elif q and q in search_key(p.text):
            rank = 3
        else:
            continue
        ranked.append((rank, reading, p.scope is PhraseScope.office, p.text, p))
    ranked.sort(key=lambda r: r[:4])
    return [r[4] for r in ranked]
