"""The Qt-free draft store: save, replace, load after reopening, clear; raw text kept as typed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from client.core.draft import DraftStore

RAW = {
    "persons.0.family_name": "葛\U000e0100城",  # 葛󠄀 with its variation selector
    "persons.0.my_number": "12345",  # invalid: too short, must come back as typed
    "persons.0.birth_date": "昭和99年13月",  # invalid date text
    "persons.1.given_name": "花子",
    "notifier.standing": "agent",
}


def test_save_then_reopen_gives_the_same_values(tmp_path: Path) -> None:
    """A saved draft survives closing and reopening the file, character for character."""
    store = DraftStore(tmp_path / "drafts.sqlite3")
    store.save("move_in", RAW, username="demo")
    store.close()
    again = DraftStore(tmp_path / "drafts.sqlite3")
    try:
        draft = again.load("move_in")
        assert draft is not None
        assert draft.values == RAW and draft.username == "demo" and draft.saved_at
    finally:
        again.close()


def test_save_replaces_and_clear_forgets(tmp_path: Path) -> None:
    """Each save replaces the screen's previous draft; clear removes it; other screens are untouched."""
    store = DraftStore(tmp_path / "drafts.sqlite3")
    try:
        assert store.load("move_in") is None
        store.save("move_in", {"moved_on": "R6"})
        store.save("move_in", {"moved_on": "R6.4.1"})
        store.save("other", {"x": "1"})
        draft = store.load("move_in")
        assert draft is not None and draft.values == {"moved_on": "R6.4.1"}
        store.clear("move_in")
        assert store.load("move_in") is None
        other = store.load("other")
        assert other is not None and other.values == {"x": "1"}
    finally:
        store.close()


def test_damaged_row_counts_as_no_draft(tmp_path: Path) -> None:
    """A row whose JSON cannot be read is treated as no draft rather than crashing the start."""
    path = tmp_path / "drafts.sqlite3"
    DraftStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO drafts (screen, fields, saved_at) VALUES ('move_in', '{broken', 'x')")
    store = DraftStore(path)
    try:
        assert store.load("move_in") is None
    finally:
        store.close()
