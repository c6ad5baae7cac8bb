"""Kill the client in the middle of a reception: a new process offers the draft back intact.

The test runs this module as a child process twice (``python -m tests.client.test_draft_recovery``):
first it shows the real 転入 screen offscreen with the real draft keeper and store, types into it by
keyboard (IME commits for Japanese) and stays up; the test waits until the store on disk holds what
was typed and SIGKILLs it. The second child answers the restore question with 復元する and prints the
form's raw values, which must equal what the first child had on screen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from client.core.draft import DraftStore

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
SCREEN = "move_in"

#: (field, text) typed in this order; invalid values on purpose (they must survive too).
TYPING: list[tuple[str, str]] = [
    ("moved_on", "R6.4.31"),  # no such date
    ("notifier.name", "試験　太郎"),
    ("notifier.phone", "0296-43-"),
    ("new_address.town", "本城町二丁目"),
    ("persons.0.family_name", "葛\U000e0100城"),
    ("persons.0.given_name", "太郎"),
    ("persons.0.birth_date", "昭和55年4月"),
    ("persons.0.my_number", "1234567"),  # too short
    ("persons.1.family_name", "試験"),
    ("persons.1.relationship", "子"),
]


def _child_type(data_dir: Path) -> None:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QComboBox

    from client.app.main import create_application
    from client.ui.counter.draft_keeper import DraftKeeper
    from client.ui.counter.move_in import MoveInForm

    app = create_application()
    store = DraftStore(data_dir / "drafts.sqlite3")
    form = MoveInForm()
    DraftKeeper(form, store)
    form.show()
    form.activateWindow()

    def type_all() -> None:
        form.add_person()
        for name, text in TYPING:
            editor = form.fields[name].editor
            target = editor.lineEdit() if isinstance(editor, QComboBox) else editor
            editor.setFocus()
            if text.isascii():
                QTest.keyClicks(target, text)
            else:
                event = QInputMethodEvent()
                event.setCommitString(text)
                QApplication.sendEvent(target, event)
            QTest.keyClick(target, Qt.Key.Key_Tab)
        QTest.keyClick(form.fields["persons.0.sex"].editor, Qt.Key.Key_Down)  # 男
        print("TYPED " + json.dumps(form.raw_values(), ensure_ascii=False), flush=True)

    QTimer.singleShot(0, type_all)
    app.exec()  # until killed


def _child_restore(data_dir: Path) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from client.app.main import create_application
    from client.ui.counter.draft_keeper import DraftKeeper, offer_restore
    from client.ui.counter.move_in import MoveInForm

    create_application()
    store = DraftStore(data_dir / "drafts.sqlite3")
    form = MoveInForm()
    DraftKeeper(form, store)
    form.show()
    asked: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, answer)
    restored = offer_restore(form, store)
    out = {"restored": restored, "asked": asked, "values": form.raw_values()}
    print("RESTORED " + json.dumps(out, ensure_ascii=False), flush=True)
    store.close()


def _spawn(phase: str, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.client.test_draft_recovery", phase, str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def _line(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line[len(prefix) :]
    raise AssertionError(f"child ended without {prefix!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_sigkill_mid_reception_then_restore(tmp_path: Path) -> None:
    """Type into the real screen, wait for the draft on disk, SIGKILL; a new process restores it all."""
    typing = _spawn("type", tmp_path)
    try:
        on_screen = json.loads(_line(typing, "TYPED "))
        store = DraftStore(tmp_path / "drafts.sqlite3")
        try:
            deadline = time.monotonic() + 30  # a wait limit, not a timing assertion
            while True:
                draft = store.load(SCREEN)
                if draft is not None and draft.values == on_screen:
                    break
                assert time.monotonic() < deadline, f"draft never matched the screen: {draft}"
                time.sleep(0.05)
        finally:
            store.close()
        os.kill(typing.pid, signal.SIGKILL)
        assert typing.wait(timeout=30) == -signal.SIGKILL
    finally:
        if typing.poll() is None:
            typing.kill()
            typing.wait()

    assert on_screen["persons.0.my_number"] == "1234567" and on_screen["moved_on"] == "R6.4.31"
    assert on_screen["persons.0.family_name"] == "葛\U000e0100城" and on_screen["persons.0.sex"] == "1"
    restoring = _spawn("restore", tmp_path)
    try:
        result = json.loads(_line(restoring, "RESTORED "))
        assert restoring.wait(timeout=60) == 0
    finally:
        if restoring.poll() is None:
            restoring.kill()
            restoring.wait()
    assert result["asked"] == ["前回の入力途中の届出があります。復元しますか？"]
    assert result["restored"] is True
    assert result["values"] == on_screen


if __name__ == "__main__":
    _phase, _dir = sys.argv[1], Path(sys.argv[2])
    {"type": _child_type, "restore": _child_restore}[_phase](_dir)
