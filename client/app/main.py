"""QApplication start: settings → logging → context (plugins, outbox) → login → main window."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .context import build_context
from .logsetup import setup_logging
from .settings import ClientSettings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

#: UI font families in order of preference; IPAmj明朝 is always installed with the client bundle.
UI_FONTS = ["Noto Sans CJK JP", "IPAexGothic", "Yu Gothic UI", "Meiryo UI", "IPAmjMincho", "IPAmj明朝"]


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with a Japanese-capable font (imports Qt only here)."""
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
