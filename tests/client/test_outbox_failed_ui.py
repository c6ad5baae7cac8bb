"""送信失敗の確認 (pytest-qt, offscreen, a real outbox file): a reception the server refused for
good is shown with its message; 破棄… asks, saves the submission and its documents to a folder
first, records the decision; 再送 makes it due again; cancelling changes nothing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QTableWidget
from pytestqt.qtbot import QtBot

from client.app.main import create_application
from client.core.outbox import NotDiscardable, Outbox, OutgoingDocument, State
from client.ui.counter.outbox_dialog import DISCARD_ONLY, SAVE_AND_DISCARD, OutboxDialog

pytestmark = pytest.mark.ui

SHOTS = Path(os.environ.get("MADOGUCHI_SCREENSHOT_DIR", tempfile.gettempdir()))
REFUSED = "この届出の個人番号は既に別の住民に登録されています。"
PDF = b"%PDF-1.4\n% synthetic test document\n"


def refused(outbox: Outbox, name: str = "試験") -> tuple[int, str]:
    """A synthetic reception with one document, refused for good by the server."""
    item = outbox.enqueue(
        "reception.create",
        {"notice": {"persons": [{"family_name": name, "given_name": "太郎"}]}},
        documents=[OutgoingDocument("notice_form", "住民異動届.pdf", PDF)],
    )
    outbox.mark_failed(item.id, REFUSED, "reception.duplicate_my_number")
    return item.id, item.client_key


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def click_when_asked(button_text: str, asked: list[str]) -> None:
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        QTimer.singleShot(20, lambda: click_when_asked(button_text, asked))
        return
    asked.append(box.text())
    next(b for b in box.buttons() if b.text() == button_text).click()


@pytest.fixture
def dialog(qtbot: QtBot, outbox: Outbox) -> OutboxDialog:
    create_application()
    refused(outbox)
    woken: list[bool] = []
    dlg = OutboxDialog(outbox, username=lambda: "clerk-a", wake=lambda: woken.append(True))
    dlg.woken = woken  # type: ignore[attr-defined]
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_failed_reception_is_shown_with_the_servers_message(dialog: OutboxDialog) -> None:
    assert dialog.table.rowCount() == 1
    assert cell(dialog.table, 0, 1) == "受付の登録（試験　太郎）"
    assert cell(dialog.table, 0, 3) == REFUSED
    assert (
        REFUSED in dialog.detail.toPlainText()
        and "reception.duplicate_my_number" in dialog.detail.toPlainText()
    )
    assert "住民異動届.pdf" in dialog.detail.toPlainText()
    dialog.grab().save(str(SHOTS / "madoguchi_outbox_failed.png"))


def test_save_then_discard_keeps_everything_in_the_folder_and_the_log(
    qtbot: QtBot, dialog: OutboxDialog, outbox: Outbox, tmp_path: Path
) -> None:
    """破棄… → 保存してから破棄: the JSON and the PDF are in the folder, the row is 破棄済, its bytes
    are gone from the outbox, the log has who, the message, the folder and the content."""
    [entry] = outbox.failed()
    [doc] = outbox.files_of(entry.client_key)
    local_copy = outbox.file_path(doc)
    assert local_copy.is_file()
    dialog.choose_folder = lambda: str(tmp_path / "kept")
    asked: list[str] = []
    QTimer.singleShot(0, lambda: click_when_asked(SAVE_AND_DISCARD, asked))
    dialog.discard_selected()
    assert asked == ["受付の登録（試験　太郎） を破棄しますか？"]
    [saved] = list((tmp_path / "kept").iterdir())
    record = json.loads((saved / "submission.json").read_text(encoding="utf-8"))
    assert record["error"] == REFUSED and record["payload"]["notice"]["persons"][0]["family_name"] == "試験"
    assert (saved / "01-住民異動届.pdf").read_bytes() == PDF
    after = outbox.get(entry.id)
    assert after is not None and after.state == State.discarded
    assert outbox.stats().failed == 0 and not local_copy.exists()
    assert dialog.table.rowCount() == 0 and "破棄しました" in dialog.message.text()
    [log] = outbox.log()
    assert (log.action, log.target, log.username, log.error) == ("discard", "reception", "clerk-a", REFUSED)
    assert log.saved_to == str(saved) and log.content is not None
    assert log.content["payload"]["notice"]["persons"][0]["family_name"] == "試験"
    assert log.content["documents"][0]["filename"] == "住民異動届.pdf"
    assert dialog.log_table.rowCount() == 1 and cell(dialog.log_table, 0, 1) == "受付を破棄"
    with pytest.raises(NotDiscardable):  # twice, or anything not refused: Japanese error
        outbox.discard(after, username="clerk-a")


def test_cancel_or_no_folder_discards_nothing(qtbot: QtBot, dialog: OutboxDialog, outbox: Outbox) -> None:
    asked: list[str] = []
    QTimer.singleShot(0, lambda: click_when_asked("キャンセル", asked))
    dialog.discard_selected()
    assert outbox.stats().failed == 1 and dialog.message.text() == "破棄しませんでした。"
    dialog.choose_folder = lambda: ""  # the folder dialog cancelled
    QTimer.singleShot(0, lambda: click_when_asked(SAVE_AND_DISCARD, asked))
    dialog.discard_selected()
    assert outbox.stats().failed == 1 and "破棄しませんでした" in dialog.message.text()
    assert outbox.log() == [] and len(asked) == 2


def test_discard_without_saving_is_still_logged(qtbot: QtBot, dialog: OutboxDialog, outbox: Outbox) -> None:
    asked: list[str] = []
    QTimer.singleShot(0, lambda: click_when_asked(DISCARD_ONLY, asked))
    dialog.discard_selected()
    [log] = outbox.log()
    assert log.action == "discard" and log.saved_to is None and log.content is not None
    assert cell(dialog.log_table, 0, 3) == "（保存なし）"


def test_retry_makes_it_due_again(qtbot: QtBot, dialog: OutboxDialog, outbox: Outbox) -> None:
    [entry] = outbox.failed()
    dialog.retry_selected()
    again = outbox.get(entry.id)
    assert again is not None and again.state == State.pending and outbox.due()[0].id == entry.id
    assert dialog.woken == [True]  # type: ignore[attr-defined]
    [log] = outbox.log()
    assert (log.action, log.error) == ("retry", REFUSED)


def test_a_refused_document_can_be_discarded(qtbot: QtBot, outbox: Outbox, tmp_path: Path) -> None:
    """A document the server refused (its reception delivered) is listed and discarded on its own."""
    create_application()
    item = outbox.enqueue(
        "reception.create",
        {"notice": {}},
        documents=[OutgoingDocument("power_of_attorney", "委任状.png", b"x")],
    )
    outbox.mark_delivered(item.id, {"reception_number": "1"})
    [doc] = outbox.files_of(item.client_key)
    outbox.mark_file_failed(doc.id, "ファイルが壊れているため読み取れません。", "attachment.broken")
    dlg = OutboxDialog(outbox, username=lambda: "clerk-a")
    qtbot.addWidget(dlg)
    assert cell(dlg.table, 0, 1) == "書類 委任状「委任状.png」"
    dlg.choose_folder = lambda: str(tmp_path / "kept")
    QTimer.singleShot(0, lambda: click_when_asked(SAVE_AND_DISCARD, []))
    dlg.discard_selected()
    [saved] = list((tmp_path / "kept").iterdir())
    assert (saved / "01-委任状.png").read_bytes() == b"x"
    assert outbox.get_file(doc.id).state == State.discarded  # type: ignore[union-attr]
    assert outbox.stats().files_failed == 0
