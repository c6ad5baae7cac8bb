"""Keep the 転入 screen's input as a draft on disk, and offer it back after a restart.

:class:`DraftKeeper` watches a :class:`MoveInForm`: a short moment after the last edit (debounced)
and whenever the focus leaves a field, it writes the form's raw values to the
:class:`client.core.draft.DraftStore` off the UI thread; when the form is cleared (クリア, or after a
successful submit) the draft is forgotten. Writes go one at a time in order (the newest pending
one replaces an older pending one), so a late save can never bring back a cleared draft.

:func:`offer_restore` asks 「前回の入力途中の届出があります。復元しますか？」 and puts every field back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from client.core.draft import Draft, DraftStore

from ..worker import run_in_background, wait_for_background
from .move_in import MoveInForm

log = logging.getLogger(__name__)

SCREEN = "move_in"
#: Milliseconds of quiet after the last keystroke before the draft is written.
DEBOUNCE_MS = 400
QUESTION = "前回の入力途中の届出があります。復元しますか？"


class DraftKeeper(QObject):
    """Saves ``form``'s raw values to ``store`` (debounced, on focus change); clears on 送信/クリア."""

    def __init__(
        self,
        form: MoveInForm,
        store: DraftStore,
        *,
        username: Callable[[], str | None] = lambda: None,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__(form)
        self.form = form
        self.store = store
        self.username = username
        self.dirty = False
        self._busy = False
        self._pending: tuple[str, dict[str, str] | None] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(debounce_ms)
        self.timer.timeout.connect(self.save_now)
        form.edited.connect(self._on_edited)
        form.cleared.connect(self._on_cleared)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # -- triggers ----------------------------------------------------------------------------

    @Slot()
    def _on_edited(self) -> None:
        self.dirty = True
        self.timer.start()

    @Slot()
    def _on_cleared(self) -> None:
        self.timer.stop()
        self.dirty = False
        self._submit(("clear", None))

    @Slot(QWidget, QWidget)
    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if self.dirty and old is not None and self.form.isAncestorOf(old):
            self.save_now()

    @Slot()
    def save_now(self) -> None:
        """Write the current raw values (or forget the draft if the form is blank)."""
        self.timer.stop()
        if not self.dirty:
            return
        self.dirty = False
        if self.form.is_blank():
            self._submit(("clear", None))
        else:
            self._submit(("save", self.form.raw_values()))

    # -- one write at a time, newest wins ----------------------------------------------------

    def _submit(self, op: tuple[str, dict[str, str] | None]) -> None:
        if self._busy:
            self._pending = op
            return
        self._busy = True
        kind, values = op
        fn: Callable[..., Any]
        if kind == "save":
            assert values is not None
            args: tuple[Any, ...] = (SCREEN, values)
            fn, kwargs = self.store.save, {"username": self.username()}
        else:
            fn, args, kwargs = self.store.clear, (SCREEN,), {"username": self.username()}
        run_in_background(fn, *args, on_result=self._done, on_error=self._failed, **kwargs)

    def _done(self, _: object = None) -> None:
        self._busy = False
        op, self._pending = self._pending, None
        if op is not None:
            self._submit(op)

    def _failed(self, exc: BaseException) -> None:
        log.warning("draft write failed: %s", type(exc).__name__)
        self._done()

    @property
    def idle(self) -> bool:
        """No write running or waiting and nothing unsaved (for shutdown and tests)."""
        return not self._busy and self._pending is None and not self.dirty

    def flush(self) -> None:
        """Finish every write now, on this thread (at shutdown): the last keystrokes are kept too."""
        self.timer.stop()
        if self._busy:
            wait_for_background(5000)
        op, self._pending = self._pending, None
        if self.dirty:
            self.dirty = False
            op = ("clear", None) if self.form.is_blank() else ("save", self.form.raw_values())
        if op is not None:
            kind, values = op
            if kind == "save" and values is not None:
                self.store.save(SCREEN, values, username=self.username())
            else:
                self.store.clear(SCREEN, username=self.username())

    def forget_screen(self) -> None:
        """The form is about to be emptied without its draft being forgotten (logout, another
        clerk): nothing is pending any more; call :meth:`flush` first to keep the last keystrokes."""
        self.timer.stop()
        self.dirty = False


def restore_question(parent: QWidget | None, draft: Draft) -> QMessageBox:
    """The Japanese question: 復元する (default) or 破棄する."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("入力途中の届出 — Madoguchi")
    box.setText(QUESTION)
    box.setInformativeText(f"保存日時: {_local_time(draft.saved_at)}")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("復元する")
    box.button(QMessageBox.StandardButton.No).setText("破棄する")
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    return box


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def offer_restore(
    form: MoveInForm, store: DraftStore, parent: QWidget | None = None, *, username: str | None = None
) -> bool:
    """If ``username`` left a draft, ask; 復元する puts every field back, 破棄する forgets it. True
    if restored. Another user's draft is never offered."""
    draft = store.load(SCREEN, username=username)
    if draft is None or not draft.values:
        return False
    box = restore_question(parent or form, draft)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Yes:
        form.restore_values(draft.values)
        return True
    store.clear(SCREEN, username=username)
    return False
