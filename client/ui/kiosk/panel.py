"""キオスク (placeholder): the resident's full-screen welcome with a Japanese/English toggle."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

TEXTS = {
    "ja": {
        "title": "ようこそ",
        "body": "タッチして手続きを始めてください。\n（準備中：この画面は次の版で使えるようになります）",
        "toggle": "English",
    },
    "en": {
        "title": "Welcome",
        "body": "Touch the screen to start.\n(Coming soon: this screen is a placeholder)",
        "toggle": "日本語",
    },
}


class KioskPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.language = "ja"
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("font-size: 40pt; font-weight: bold;")
        self.body = QLabel()
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setStyleSheet("font-size: 20pt;")
        self.toggle = QPushButton()
        self.toggle.setMinimumHeight(64)
        self.toggle.setStyleSheet("font-size: 18pt;")
        self.toggle.clicked.connect(self.toggle_language)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addStretch(1)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignRight)
        self._apply()

    def toggle_language(self) -> None:
        self.language = "en" if self.language == "ja" else "ja"
        self._apply()

    def _apply(self) -> None:
        t = TEXTS[self.language]
        self.title.setText(t["title"])
        self.body.setText(t["body"])
        self.toggle.setText(t["toggle"])
