"""The counter window's input aids, installed on the window that hosts the form (whatever the
form looks like): 語句 (Ctrl+G) inserts a registered phrase into the focused field, 語句の登録
manages the clerk's own phrases, 住記から入力 (Ctrl+J) fills the form from the register.

The window calls :func:`install_counter_aids` once; the form is reached only through its public
``raw_values`` / ``restore_values``. The toolbar and its shortcuts are there only while the
counter's form is on screen (not in kiosk mode, where residents use the terminal).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow, QStackedWidget, QToolBar, QWidget

from client.app.context import AppContext

from ..widgets.phrases import PHRASE_SHORTCUT, PhraseManagerDialog, open_phrase_picker
from .prefill import PREFILL_SHORTCUT, PrefillTarget, open_prefill


def _show(dialog: QDialog) -> QDialog:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def install_counter_aids(
    window: QMainWindow, ctx: AppContext, form: Callable[[], PrefillTarget | None]
) -> QToolBar:
    """Add the 入力補助 toolbar and its window-wide shortcuts to ``window``."""
    toolbar = QToolBar("入力補助")
    toolbar.setObjectName("counter_aids")
    toolbar.setMovable(False)
    window.addToolBar(toolbar)

    def counter_shown() -> QWidget | None:
        target = form()
        if isinstance(target, QWidget) and target.isVisibleTo(window):
            return target
        return None

    def pick_phrase() -> None:
        if counter_shown() is None:
            return
        _show(open_phrase_picker(ctx, window))

    def manage_phrases() -> None:
        _show(PhraseManagerDialog(ctx, window))

    def prefill() -> None:
        target = form()
        if target is None or counter_shown() is None:
            window.statusBar().showMessage("住記から入力は窓口モードの届出の画面で使えます。", 10000)
            return
        _show(open_prefill(ctx, target, window))

    for text, shortcut, slot in (
        (f"語句（{PHRASE_SHORTCUT}）", PHRASE_SHORTCUT, pick_phrase),
        ("語句の登録…", None, manage_phrases),
        (f"住記から入力（{PREFILL_SHORTCUT}）", PREFILL_SHORTCUT, prefill),
    ):
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        toolbar.addAction(action)

    def follow_mode(_index: int = 0) -> None:
        # Only on the counter's form: never in kiosk mode (residents) nor on the supervisor's tabs.
        shown = counter_shown() is not None
        toolbar.setVisible(shown)
        for action in toolbar.actions():
            action.setEnabled(shown)

    stack = window.centralWidget()
    if isinstance(stack, QStackedWidget):
        stack.currentChanged.connect(follow_mode)
    follow_mode()
    return toolbar
