"""QApplication start: settings → logging → context (plugins, outbox) → login → main window."""

from __future__ import annotations

import logging
import signal
import sys
from typing import TYPE_CHECKING

from .context import build_context
from .logsetup import setup_logging
from .settings import ClientSettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

#: UI font families in order of preference; IPAmj明朝 is always installed with the client bundle.
UI_FONTS = ["Noto Sans CJK JP", "IPAexGothic", "Yu Gothic UI", "Meiryo UI", "IPAmjMincho", "IPAmj明朝"]


#: What :func:`keep_none_alive` adds to None's reference count (no session drops that many).
NONE_BALLAST = 1 << 48


def keep_none_alive() -> None:
    """Work around PySide6 6.12 on CPython 3.11: every call of a Qt method returning nothing
    (``setPen``, ``update``, ``setGeometry`` …) and every null pointer handed back (``lineEdit()`` of
    a plain combo box, ``focusWidget()``) drops one reference to ``None`` that was never taken. The
    counter screen paints hundreds of such calls per keystroke, so after a few dozen Tabs None's
    count reaches zero and the process dies with "Fatal Python error: none_dealloc". CPython 3.12
    made None immortal; on 3.11 its count is raised once so far that no session can exhaust it."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the object's first field
    if refcount.value < NONE_BALLAST:
        refcount.value += NONE_BALLAST


def _broken_pipe(signum: int, frame: object) -> None:
    """Nothing to do: the write that met a closed connection raises BrokenPipeError by itself."""


def catch_sigpipe() -> None:
    """Catch SIGPIPE with a handler that does nothing, instead of ignoring it.

    Python ignores SIGPIPE so that a write to a connection the server closed raises
    BrokenPipeError. libsane's thread helper resets an *ignored* SIGPIPE to "terminate the process"
    at the end of every sheet (see ``client.devices.scanners.sane``); the scanner plugin puts it back
    afterwards, but in between a write by the outbox or sync thread would end the terminal. A
    handler is left alone by libsane, and the write still fails with BrokenPipeError. Main thread
    only (Python's rule for signal handlers); child processes start with the default again.
    """
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, _broken_pipe)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with a Japanese-capable font (imports Qt only here)."""
    keep_none_alive()
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or ["madoguchi"])
    font = QFont()
    font.setFamilies(UI_FONTS)
    font.setPointSize(11)
    app.setFont(font)
    app.setApplicationName("Madoguchi")
    return app


def run(settings: ClientSettings) -> int:
    """Start the client; returns the process exit code."""
    from client.ui.login import LoginDialog
    from client.ui.main_window import MainWindow
    from client.ui.worker import wait_for_background

    catch_sigpipe()
    log_path = setup_logging(settings.data_dir)
    log.info("starting client, station=%s, log=%s", settings.station, log_path)
    app = create_application()
    ctx = build_context(settings)
    ctx.worker.start()
    try:
        if ctx.restore_session() is None:
            dialog = LoginDialog(ctx)
            if not dialog.exec():
                return 0
        window = MainWindow(ctx)
        window.show()
        return int(app.exec())
    finally:
        wait_for_background(5000)
        ctx.close()
