"""The 転入 screen's 印刷 (Ctrl+P) and 漢字検索 (Ctrl+K), offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from client.core.print.service import print_forms
from client.devices.printers.registry import registry
from client.ui.counter.move_in import MoveInForm
from tests.client.forms import move_in_form

pytestmark = pytest.mark.ui


def _fill(form: MoveInForm) -> None:
    data = move_in_form()
    form.fields["moved_on"].set_text(data["moved_on"])
    form.fields["notifier.name"].set_text(data["notifier"]["name"])
    for prefix in ("new_address", "old_address"):
        for part, value in data[prefix].items():
            form.fields[f"{prefix}.{part}"].set_text(value)
    for part, value in data["persons"][0].items():
        form.persons[0].fields[part].set_text(value)


def test_ctrl_p_prints_before_submission(qtbot: QtBot, tmp_path: Path) -> None:
    """Ctrl+P on a valid form hands the notice to printing without submitting; the PDFs come out."""
    form = MoveInForm()
    qtbot.addWidget(form)
    form.show()
    form.activateWindow()
    qtbot.waitActive(form)
    _fill(form)
    assert form.request_print() is not None, form.form_error.text()
    submitted: list[object] = []
    form.submitted.connect(submitted.append)
    printer = registry.create("pdf-file", folder=tmp_path)
    jobs: list[object] = []
    form.print_requested.connect(lambda notice: jobs.extend(print_forms(notice, printer)))
    form.fields["moved_on"].editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.fields["moved_on"].editor)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert jobs and not submitted
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".pdf"] * len(jobs)


def test_ctrl_p_on_invalid_form_shows_errors(qtbot: QtBot) -> None:
    """Ctrl+P on an empty form prints nothing and shows the validation errors."""
    form = MoveInForm()
    qtbot.addWidget(form)
    requested: list[object] = []
    form.print_requested.connect(requested.append)
    assert form.request_print() is None and requested == []
