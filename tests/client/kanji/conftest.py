"""One kanji index per test session, built from this machine's data into a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.core.kanji.index import KanjiIndex


@pytest.fixture(scope="session")
def kanji_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KanjiIndex]:
    index = KanjiIndex(Path(tmp_path_factory.mktemp("kanji")) / "index.sqlite3")
    try:
        yield index
    finally:
        index.close()
