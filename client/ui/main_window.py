"""Main window: mode switch (as station profile and permissions allow), status bar, menus."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from client.app.context import AppContext
from client.core.auth import MEMORY_ONLY_NOTICE, MODE_LABELS
from client.core.documents import ReceptionDocuments, Submitted, submit_with_documents
from client.core.ocr.routing import Engines
from client.core.outbox import OutboxItem, OutboxStats
from client.core.print.service import PrintedForm, print_forms
from client.core.sync import SyncEvent
from client.devices.printers.base import PrintJob
from shared.api import StationMode
from shared.models.movement_notice import MovementNotice

from .bridge import SyncBridge
from .counter.aids import install_counter_aids
from .counter.attachments import AttachmentsDialog
from .counter.draft_keeper import SCREEN as DRAFT_SCREEN
from .counter.draft_keeper import DraftKeeper, offer_restore
from .counter.move_in import MoveInForm
from .counter.outbox_dialog import OutboxDialog
from .kiosk.panel import KioskPanel
from .login import LoginDialog
from .settings_dialog import SettingsDialog
from .supervisor.panel import SupervisorPanel
from .worker import error_text, run_in_background


def warm_up_reading(engines: Engines) -> int:
    """On a worker thread: load the OCR templates and the station's engines before the first 読取
    (imported here so the window starts without OpenCV and the engines)."""
    from client.core.ocr.canvas_fill import warm_up

    return warm_up(engines)


#: The window's size where the screen allows: the canvas at 80 % and the 持参書類 row in one line.
PREFERRED_SIZE = (1280, 900)
#: Room the window frame (title bar, borders) takes around the client area.
FRAME_ALLOWANCE = (16, 40)


def initial_size(window: QWidget) -> tuple[int, int]:
    """The preferred size, shrunk to the screen's free area (the counter PC: 1366×768 less the
    taskbar), so that no part of the window starts off screen."""
    screen = window.screen()
    if screen is None:
        return PREFERRED_SIZE
    free = screen.availableGeometry()
    return (
        min(PREFERRED_SIZE[0], free.width() - FRAME_ALLOWANCE[0]),
        min(PREFERRED_SIZE[1], free.height() - FRAME_ALLOWANCE[1]),
    )


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(f"Madoguchi — {ctx.station.label}")
        self.resize(*initial_size(self))
        self.pages: dict[StationMode, QWidget] = {}
        #: whose permissions the supervisor and kiosk pages were built with
        self.pages_owner: str | None = None
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.counter: MoveInForm | None = None
        self.draft_keeper: DraftKeeper | None = None
        self.last_key: str | None = None
        #: The clerk whose reception is on the counter screen (its draft is saved under this name).
        self.screen_owner: str | None = None
        self._relogin_open = False
        #: 保存用の書類 of the reception on screen (on disk until it is submitted).
        self.documents = ReceptionDocuments(ctx.settings.data_dir / "pending_documents")

        toolbar = QToolBar("モード")
        toolbar.setMovable(False)
        toolbar.addWidget(QLabel("モード: "))
        self.mode_box = QComboBox()
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        toolbar.addWidget(self.mode_box)
        self.addToolBar(toolbar)
        self.aids = install_counter_aids(self, ctx, lambda: self.counter)  # 語句 Ctrl+G, 住記から入力 Ctrl+J

        menu = self.menuBar().addMenu("ファイル")
        settings_action = QAction("設定…", self)
        settings_action.triggered.connect(self.open_settings)
        logout_action = QAction("ログアウト", self)
        logout_action.triggered.connect(self.logout)
        quit_action = QAction("終了", self)
        quit_action.triggered.connect(self.close)
        for action in (settings_action, logout_action, quit_action):
            menu.addAction(action)
        documents_action = self.documents_action = QAction("保存用の書類…", self)
        documents_action.setShortcut("Ctrl+Shift+D")
        documents_action.setEnabled(False)
        documents_action.triggered.connect(self.open_documents)
        failed_action = self.failed_action = QAction("送信失敗の確認…", self)
        failed_action.setShortcut("Ctrl+Shift+F")
        failed_action.triggered.connect(self.open_failed)
        reception_menu = self.menuBar().addMenu("受付")
        reception_menu.addAction(documents_action)
        reception_menu.addAction(failed_action)

        self.user_label = QLabel()
        self.outbox_label = QLabel()
        self.keyring_label = QLabel("" if ctx.tokens.persistent else MEMORY_ONLY_NOTICE)
        self.keyring_label.setStyleSheet("color: #8a5300;")
        # a long notice must not push 送信待ち and the documents off the status bar at 1366 px
        self.keyring_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.keyring_label.setToolTip(self.keyring_label.text())
        status = self.statusBar()
        status.addWidget(self.user_label)
        status.addWidget(self.keyring_label, 1)
        status.addPermanentWidget(self.outbox_label)
        self.documents_label = QLabel()
        status.addPermanentWidget(self.documents_label)
        self._update_documents_label()

        self.bridge = SyncBridge(ctx.worker, self)
        self.bridge.sync_event.connect(self._on_sync_event)
        self.refresh_session()
        self._update_outbox_label()

    # -- session and modes -------------------------------------------------------------------

    def current_username(self) -> str | None:
        return self.ctx.session.user.username if self.ctx.session else None

    def refresh_session(self) -> None:
        """Rebuild the mode list after login/logout; another clerk never sees the previous one's
        reception (see :meth:`hand_over_screen`)."""
        self.hand_over_screen(self.current_username())
        self._drop_pages_built_for_another_user(self.current_username())
        session = self.ctx.session
        self.user_label.setText(
            f"{session.user.display_name}（{session.user.username}）" if session else "ログインしていません"
        )
        modes = self.ctx.allowed_modes()
        self.mode_box.blockSignals(True)
        self.mode_box.clear()
        for mode in modes:
            self.mode_box.addItem(MODE_LABELS[mode], mode.value)
        self.mode_box.blockSignals(False)
        if not modes:
            self.stack.addWidget(
                placeholder := QLabel("この端末で使えるモードの権限がありません。管理者に連絡してください。")
            )
            self.stack.setCurrentWidget(placeholder)
            return
        wanted = self.ctx.settings.mode or self.ctx.station.default_mode.value
        idx = self.mode_box.findData(wanted)
        if idx < 0 and self.ctx.settings.mode:
            self.statusBar().showMessage(
                f"指定されたモード（{self.ctx.settings.mode}）はこの端末または利用者の権限では使えません。",
                15000,
            )
        self.mode_box.setCurrentIndex(max(idx, 0))
        self._mode_changed(self.mode_box.currentIndex())

    def _drop_pages_built_for_another_user(self, username: str | None) -> None:
        """The supervisor page shows tabs by its user's permissions (e.g. 語句登録（共通）): after a
        change of clerk it is built again, never handed on. The counter page stays (its content is
        handed over by :meth:`hand_over_screen`)."""
        if username == self.pages_owner:
            return
        self.pages_owner = username
        for mode in [m for m in self.pages if m is not StationMode.counter]:
            page = self.pages.pop(mode)
            self.stack.removeWidget(page)
            page.hide()
            page.deleteLater()

    @Slot(int)
    def _mode_changed(self, index: int) -> None:
        value = self.mode_box.itemData(index)
        if value is None:
            return
        mode = StationMode(value)
        page = self.pages.get(mode)
        if page is None:
            page = self._make_page(mode)
            self.pages[mode] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        # the reception's documents only from the counter's screen (never in kiosk mode)
        self.documents_action.setEnabled(mode is StationMode.counter)
        if mode is StationMode.kiosk and self.ctx.station.full_screen:
            self.showFullScreen()
        elif self.isFullScreen():
            self.showNormal()

    def _make_page(self, mode: StationMode) -> QWidget:
        if mode is StationMode.counter:
            # 読取 uses the station profile's OCR setting (routed, or the one engine it forces)
            self.counter = MoveInForm(scanner=self.ctx.devices.scanner, engines=self.ctx.devices.ocr)
            self.counter.submitted.connect(self.enqueue_notice)
            self.counter.print_requested.connect(self.print_notice)
            # 保存用の書類 belong to the reception on screen: opened from it, cleared with it.
            self.counter.documents_requested.connect(self.open_documents)
            self.counter.cleared.connect(self.discard_documents)
            self._update_documents_label()
            self.screen_owner = self.current_username()
            self.draft_keeper = DraftKeeper(self.counter, self.ctx.drafts, username=lambda: self.screen_owner)
            # After the window is up (the user has logged in): offer the draft of a killed session.
            QTimer.singleShot(0, self.offer_draft)
            # Load the OCR templates and engines now, so the first 読取 does not wait for them.
            run_in_background(
                warm_up_reading, self.ctx.devices.ocr, on_result=lambda _n: None, on_error=lambda _e: None
            )
            return self.counter
        if mode is StationMode.supervisor:
            return SupervisorPanel(self.ctx)
        return KioskPanel()

    # -- submitting --------------------------------------------------------------------------

    @Slot(object)
    def enqueue_notice(self, notice: MovementNotice) -> None:
        """Write the notice to the outbox on a worker thread, then wake the sync worker."""
        assert self.counter is not None
        self.counter.submit_button.setEnabled(False)
        run_in_background(
            submit_with_documents,
            self.ctx.outbox,
            notice,
            terminal_id=self.ctx.settings.terminal_id,
            opened_at=self.counter.opened_at,
            documents=self.documents,
            on_result=self._enqueued,
            on_error=self._enqueue_failed,
        )

    def open_documents(self) -> None:
        """保存用の書類 of the current reception (scanner of this station, or files)."""
        if self.counter is None or self.stack.currentWidget() is not self.counter:
            return
        AttachmentsDialog(self.documents, self.ctx.devices.scanner, self).exec()
        self._update_documents_label()

    def open_failed(self) -> None:
        """送信失敗の確認: view what the server refused, 再送 or 破棄 (with confirmation and a log)."""
        if self.ctx.session is None:
            return
        dialog = OutboxDialog(
            self.ctx.outbox, username=self.current_username, wake=self.ctx.worker.wake, parent=self
        )
        dialog.exec()
        self._update_outbox_label()

    def _update_documents_label(self) -> None:
        """How many documents wait on this screen for the next 送信 (they go with it)."""
        count = len(self.documents.all())
        self.documents_label.setText(f"保存用の書類 {count}件（次の送信に添付）" if count else "")
        if self.counter is not None:
            self.counter.show_documents_count(count)

    def discard_documents(self) -> None:
        """Forget the 保存用の書類 of the reception on screen (クリア, ログアウト): they must never go
        with the next resident's 送信."""
        self.documents.clear()
        self._update_documents_label()

    def _enqueued(self, submitted: Submitted) -> None:
        item: OutboxItem = submitted.item
        if submitted.warning:
            self.statusBar().showMessage(submitted.warning, 30000)
        assert self.counter is not None
        self.counter.submit_button.setEnabled(True)
        self.last_key = item.client_key
        self._update_documents_label()
        self.counter.clear()
        self.counter.show_last(item)
        self.ctx.worker.wake()
        self._update_outbox_label()

    def _enqueue_failed(self, exc: BaseException) -> None:
        assert self.counter is not None
        self.counter.submit_button.setEnabled(True)
        self.counter.form_error.show_messages([f"保存できませんでした: {error_text(exc)}"])

    # -- drafts and printing -----------------------------------------------------------------

    def hand_over_screen(self, username: str | None) -> None:
        """The logged-in clerk changed (logout, or a different clerk at the login dialog): keep the
        previous clerk's input as *their* draft, empty the screen of that resident (fields, tints,
        the last 受付番号, 保存用の書類), then offer the new clerk their own draft. Drafts belong to
        the clerk who typed them: another clerk can never open them."""
        if self.counter is None or username == self.screen_owner:
            return
        if self.draft_keeper is not None:
            try:
                self.draft_keeper.flush()  # under the previous owner: the last keystrokes too
            except Exception as exc:  # the debounced saves already kept all but the last moment
                self.statusBar().showMessage(
                    f"入力途中の届出を保存できませんでした: {error_text(exc)}", 15000
                )
        self.counter.reset_screen()
        self.screen_owner = username
        if self.draft_keeper is not None:
            self.draft_keeper.forget_screen()  # emptying the screen is no edit of the new owner's
        self.last_key = None
        self.discard_documents()
        if username is not None:
            QTimer.singleShot(0, self.offer_draft)

    def offer_draft(self) -> bool:
        """Ask whether to restore the counter draft this clerk left (a killed session, a logout)."""
        if self.counter is None or self.screen_owner is None:
            return False
        try:
            draft = self.ctx.drafts.load(DRAFT_SCREEN, username=self.screen_owner)
            restored = offer_restore(self.counter, self.ctx.drafts, self, username=self.screen_owner)
        except Exception as exc:  # an unreadable draft must not stop the counter
            self.statusBar().showMessage(f"入力途中の届出を読み込めませんでした: {error_text(exc)}", 15000)
            return False
        if not restored and draft is not None and draft.values:
            self.discard_documents()  # 破棄する: the reception's documents go with it
        elif not restored and self.documents.all():
            self.statusBar().showMessage(
                f"前回の画面の保存用の書類が{len(self.documents.all())}件残っています。この受付のもので"
                "なければ「保存用の書類」から削除してください。",
                60000,
            )
        return restored

    @Slot(object)
    def print_notice(self, notice: MovementNotice) -> None:
        """Render the notice's forms and send them to the station's printer, off the UI thread."""
        assert self.counter is not None
        self.counter.print_button.setEnabled(False)
        self.statusBar().showMessage("印刷しています…")
        run_in_background(
            print_forms,
            notice,
            self.ctx.devices.printer,
            on_result=self._printed,
            on_error=self._print_failed,
        )

    def _printed(self, jobs: list[tuple[PrintedForm, PrintJob]]) -> None:
        if self.counter is not None:
            self.counter.print_button.setEnabled(True)
        self.statusBar().showMessage(f"印刷しました（{len(jobs)}件）", 15000)

    def _print_failed(self, exc: BaseException) -> None:
        if self.counter is not None:
            self.counter.print_button.setEnabled(True)
        self.statusBar().showMessage(f"印刷できませんでした: {error_text(exc)}", 30000)

    # -- sync events -------------------------------------------------------------------------

    @Slot(object)
    def _on_sync_event(self, event: SyncEvent) -> None:
        self._show_stats(event.stats)
        if event.kind == "auth_required":
            self.statusBar().showMessage("ログインの有効期限が切れました。再度ログインしてください。", 10000)
            self.relogin()
            return
        if event.item is not None and self.counter is not None and event.item.client_key == self.last_key:
            self.counter.show_last(event.item)
        if event.kind == "failed" and event.file is not None:
            self.statusBar().showMessage(
                f"書類「{event.file.filename}」を保存できませんでした: {event.file.last_error}", 30000
            )
        elif event.kind == "failed" and event.item is not None:
            self.statusBar().showMessage(
                f"送信できませんでした: {event.item.last_error}（受付 → 送信失敗の確認… Ctrl+Shift+F）", 15000
            )

    def _update_outbox_label(self) -> None:
        run_in_background(
            self.ctx.outbox.stats,
            on_result=self._show_stats,
            on_error=lambda e: None,
        )

    def _show_stats(self, stats: OutboxStats) -> None:
        text = f"送信待ち {stats.pending}件"
        if stats.failed:
            text += f"　送信失敗 {stats.failed}件"
        if stats.files_pending or stats.files_failed:
            text += f"　書類: 送信待ち {stats.files_pending}件"
            if stats.files_failed:
                text += f"・保存できなかった書類 {stats.files_failed}件"
        self.outbox_label.setText(text)

    # -- menus -------------------------------------------------------------------------------

    def relogin(self) -> None:
        """Ask for the password again (one dialog at a time); sending resumes after success."""
        if self._relogin_open:
            return
        self._relogin_open = True
        try:
            dialog = LoginDialog(self.ctx, self)
            if dialog.exec():
                self.refresh_session()
        finally:
            self._relogin_open = False

    def logout(self) -> None:
        # the resident on screen leaves with the clerk: input kept as the clerk's own draft, the
        # screen emptied before the login dialog shows; documents never wait for the next clerk
        self.hand_over_screen(None)
        self.discard_documents()
        run_in_background(self.ctx.logout, on_result=lambda _: self._after_logout(), on_error=lambda e: None)

    def _after_logout(self) -> None:
        self.refresh_session()
        self.relogin()

    def open_settings(self) -> None:
        SettingsDialog(self.ctx.settings, self).exec()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.draft_keeper is not None:
            try:
                self.draft_keeper.flush()
            except Exception as exc:  # the debounced saves already kept all but the last moment
                error_text(exc)
        self.ctx.worker.stop(timeout=2)
        super().closeEvent(event)
