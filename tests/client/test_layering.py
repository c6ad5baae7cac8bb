"""Layering: Qt stays in client/ui (and the app's start function); the core runs without it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "client"
QT_IMPORT = re.compile(r"^\s*(from|import)\s+(PySide6|PyQt|shiboken)", re.MULTILINE)


def test_qt_imported_only_in_ui_and_app() -> None:
    """No module outside client/ui and client/app imports PySide6."""
    offenders = [
        str(p.relative_to(CLIENT))
        for p in CLIENT.rglob("*.py")
        if p.relative_to(CLIENT).parts[0] not in ("ui", "app")
        and QT_IMPORT.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_core_and_wiring_load_without_qt() -> None:
    """Importing the core, devices (the Qt printer plugin too, until it prints), OCR engines, settings
    and context pulls in no Qt module."""
    code = (
        "import sys\n"
        "import client.__main__, client.app.context, client.app.wiring\n"
        "import client.core.sync, client.core.reception\n"
        "import client.core.ocr.engines.registry as r; r.registry.load()\n"
        "import client.devices.printers.registry as p; p.registry.load(); p.registry.create('qt')\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
