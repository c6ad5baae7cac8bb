"""語句登録 on the client without Qt: the filter's order, the local copy (atomic, corrupt copy
ignored) and the fall-back to it when the server cannot be reached (a real closed port)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from client.core.api import ApiClient
from client.core.phrases import cache_path, fetch, filter_phrases, load_cache, save_cache
from shared.api_counter import PhraseCategory, PhraseList, PhraseRead, PhraseScope
from shared.errors import ServiceUnavailable
from tests.conftest import free_port


def p(text: str, reading: str, key: str | None = None, scope: PhraseScope = PhraseScope.user) -> PhraseRead:
    return PhraseRead(
        id=uuid.uuid4(),
        scope=scope,
        reading=reading,
        key=key,
        text=text,
        category=PhraseCategory.building,
        version=1,
        updated_at=datetime.now(UTC),
        updated_by="demo",
    )


ITEMS = [
    p("本城町二丁目", "ほんじょうちょう", scope=PhraseScope.office),
    p("ほんの一例", "ほんのいちれい", "x1"),
    p("日本橋ハイツ", "にほんばしはいつ", "hon"),
    p("本城ハイツ", "ほんじょうはいつ", "hh"),
]


def test_filter_order_key_then_reading_then_text() -> None:
    """略号 exact, 略号 prefix, 読み prefix (half-width kana folded), then text anywhere."""
    assert [x.text for x in filter_phrases(ITEMS, "hon")] == ["日本橋ハイツ"]
    assert [x.text for x in filter_phrases(ITEMS, "ﾎﾝｼﾞｮｳ")] == ["本城町二丁目", "本城ハイツ"]
    assert [x.text for x in filter_phrases(ITEMS, "ハイツ")] == ["日本橋ハイツ", "本城ハイツ"]
    assert [x.text for x in filter_phrases(ITEMS, "ほん")] == ["本城町二丁目", "本城ハイツ", "ほんの一例"]
    assert len(filter_phrases(ITEMS, "  ")) == 4 and filter_phrases(ITEMS, "ぬ") == []


def test_cache_round_trip_and_corrupt_copy(tmp_path: Path) -> None:
    path = cache_path(tmp_path, "http://server/", "082104", "demo")
    assert path == cache_path(tmp_path, "http://server", "082104", "demo")
    assert path != cache_path(tmp_path, "http://server", "082104", "other")
    save_cache(path, PhraseList(items=ITEMS, can_manage_office=True))
    loaded = load_cache(path)
    assert loaded is not None and [x.text for x in loaded.items] == [x.text for x in ITEMS]
    assert list(path.parent.glob(".phrases-*")) == []  # no temporary file left
    path.write_text('{"items": [', encoding="utf-8")
    assert load_cache(path) is None


def test_unreachable_server_uses_the_copy_or_says_why(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    path = cache_path(tmp_path, url, "082104", "demo")
    with ApiClient(url, timeout=2, token="x") as api:
        with pytest.raises(ServiceUnavailable):
            fetch(api, path)
        save_cache(path, PhraseList(items=ITEMS[:1], can_manage_office=False))
        book = fetch(api, path)
    assert book.offline and "接続できません" in book.problem
    assert [x.text for x in book.items] == ["本城町二丁目"]
