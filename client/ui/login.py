"""ログイン dialog: 自治体コード, ユーザーID, パスワード, optional ワンタイムコード.

The login request runs off the UI thread; a failure shows the server's Japanese message.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from client.app.context import AppContext
from client.core.auth import Session

from .widgets.fields import ErrorLabel
from .worker import error_text, run_in_background


class LoginDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: Session | None = None
        self.setWindowTitle("ログイン — Madoguchi")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"サーバー: {ctx.settings.server_url}"))
        form = QFormLayout()
        self.lg_code = QLineEdit(ctx.settings.lg_code)
        self.lg_code.setMaxLength(6)
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = QLineEdit()
        self.totp.setPlaceholderText("設定している場合のみ")
        self.totp.setMaxLength(10)
        form.addRow("自治体コード", self.lg_code)
        form.addRow("ユーザーID", self.username)
        form.addRow("パスワード", self.password)
        form.addRow("ワンタイムコード", self.totp)
        layout.addLayout(form)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox()
        self.login_button = self.buttons.addButton("ログイン", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("キャンセル", QDialogButtonBox.ButtonRole.RejectRole)
        self.login_button.setDefault(True)
        self.buttons.accepted.connect(self.try_login)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QWidget.setTabOrder(self.lg_code, self.username)
        QWidget.setTabOrder(self.username, self.password)
        QWidget.setTabOrder(self.password, self.totp)
        (self.username if self.lg_code.text() else self.lg_code).setFocus()

    def try_login(self) -> None:
        if not self.username.text().strip() or not self.password.text():
            self.error.show_messages(["ユーザーIDとパスワードを入力してください。"])
            return
        self.error.show_messages(["ログインしています…"])
        self.login_button.setEnabled(False)
        run_in_background(
            self.ctx.login,
            self.lg_code.text(),
            self.username.text(),
            self.password.text(),
            self.totp.text() or None,
            on_result=self._done,
            on_error=self._failed,
        )

    def _done(self, session: Session) -> None:
        self.session = session
        self.error.show_messages([])
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.login_button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.error.show_messages([error_text(exc)])
