"""設定 dialog: edits the documented settings fields and saves them to settings.json."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from client.app.settings import EDITABLE_FIELDS, ClientSettings, save_settings
from shared.errors import describe_validation_errors

from .widgets.fields import ErrorLabel

LABELS = {
    "server_url": "サーバーURL",
    "lg_code": "自治体コード",
    "terminal_id": "端末ID",
    "station": "端末の種類",
    "request_timeout_s": "タイムアウト（秒）",
    "sync_poll_interval_s": "送信確認の間隔（秒）",
    "sync_backoff_base_s": "再送間隔の初期値（秒）",
    "sync_backoff_cap_s": "再送間隔の上限（秒）",
}


class SettingsDialog(QDialog):
    """Changes take effect at the next start (the dialog says so)."""

    def __init__(self, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("設定")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        for name in EDITABLE_FIELDS:
            edit = QLineEdit(str(getattr(settings, name)))
            edit.setToolTip(ClientSettings.model_fields[name].description or "")
            form.addRow(LABELS[name], edit)
            self.edits[name] = edit
        layout.addLayout(form)
        layout.addWidget(QLabel("保存した設定は次回の起動から有効になります。"))
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        buttons.addButton("保存", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("キャンセル", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        values: dict[str, Any] = self.settings.model_dump()
        values.update({name: edit.text() for name, edit in self.edits.items()})
        try:
            updated = ClientSettings.model_validate(values)
        except ValidationError as exc:
            self.error.show_messages(
                [
                    f"{LABELS.get(d['field'], d['field'])}: {d['message']}"
                    for d in describe_validation_errors(exc.errors())
                ]
            )
            return
        try:
            save_settings(updated)
        except OSError as exc:
            self.error.show_messages([f"設定を保存できませんでした（{exc.strerror}）。"])
            return
        self.settings = updated
        self.accept()
