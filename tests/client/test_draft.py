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
        draft = again.load("move_in", username="demo")
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
        conn.execute(
            "INSERT INTO user_drafts (screen, username, fields, saved_at) "
            "VALUES ('move_in', '', '{broken', 'x')"
        )
    store = DraftStore(path)
    try:
        assert store.load("move_in") is None
    finally:
        store.close()


def test_a_draft_belongs_to_the_user_who_typed_it(tmp_path: Path) -> None:
    """Two clerks on one terminal: each gets only their own draft; clearing one keeps the other."""
    store = DraftStore(tmp_path / "drafts.sqlite3")
    try:
        store.save("move_in", {"persons.0.family_name": "前の住民"}, username="clerk-a")
        assert store.load("move_in", username="clerk-b") is None
        assert store.load("move_in") is None  # no user is not a wildcard
        store.save("move_in", {"persons.0.family_name": "次の住民"}, username="clerk-b")
        a = store.load("move_in", username="clerk-a")
        b = store.load("move_in", username="clerk-b")
        assert a is not None and a.values == {"persons.0.family_name": "前の住民"} and a.username == "clerk-a"
        assert b is not None and b.values == {"persons.0.family_name": "次の住民"}
        store.clear("move_in", username="clerk-b")
        assert store.load("move_in", username="clerk-b") is None
        assert store.load("move_in", username="clerk-a") is not None
        assert store.owners("move_in") == ["clerk-a"]
    finally:
        store.close()


def test_an_older_draft_file_keeps_its_draft_for_its_user(tmp_path: Path) -> None:
    """A drafts file of the first schema (one row per screen) opens: the row goes to its user."""
    path = tmp_path / "drafts.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE drafts (screen TEXT PRIMARY KEY, fields TEXT NOT NULL, saved_at TEXT NOT NULL, "
            "username TEXT)"
        )
        conn.execute(
            "INSERT INTO drafts VALUES ('move_in', '{\"persons.0.family_name\": \"試験\"}', 'x', 'demo')"
        )
    store = DraftStore(path)
    try:
        draft = store.load("move_in", username="demo")
        assert draft is not None and draft.values == {"persons.0.family_name": "試験"}
        assert store.load("move_in", username="other") is None
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "drafts" not in tables
