"""Client test fixtures. Nothing here imports Qt (UI fixtures live in the UI test modules).

The keyring backend is the memory one of :mod:`tests.client.keyring_backend`, selected through
``PYTHON_KEYRING_BACKEND`` before anything asks keyring for its backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["PYTHON_KEYRING_BACKEND"] = "tests.client.keyring_backend.MemoryKeyring"

from client.app.main import keep_none_alive
from client.app.settings import ClientSettings, load_settings
from client.core.outbox import Outbox

# The Qt tests make the same Qt calls as the app does, so they need the app's PySide6 6.12 /
# CPython 3.11 workaround too: without it the test process dies at exit with none_dealloc.
keep_none_alive()

# Same cause, second symptom: with the cyclic collector running, a collection that happens to start
# inside a later Qt test (here in a dialog's exec()) touches widget wrappers of earlier tests that
# PySide6 6.12 freed too early, and the process segfaults. Reference counting still frees what it
# can; only the cycle collector is off in the Qt test process (a few hundred MB at most).
if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
    import gc

    gc.disable()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def client_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClientSettings:
    """Settings in a fresh data directory, no environment leaking in."""
    for key in list(os.environ):
        if key.startswith("MADOGUCHI_CLIENT_"):
            monkeypatch.delenv(key)
    return load_settings(data_dir=str(tmp_path / "client"), terminal_id=f"test-{uuid.uuid4().hex[:6]}")
