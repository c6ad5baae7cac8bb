"""Card reader over PC/SC (pyscard: pcsc-lite on Linux, WinSCard on Windows): reads the
マイナンバーカード 券面事項入力補助AP with the resident's 4-digit PIN (:mod:`.kenhojo`).

Settings: ``reader`` (part of the reader's name; default: the first reader with a card).
"""

from __future__ import annotations

from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import CardFaceInfo, CardReader
from .kenhojo import KenhojoSession
from .registry import registry


@registry.register
class PcscCardReader(CardReader):
    plugin_id = "pcsc"
    label = "ICカードリーダー（PC/SC）"

    def __init__(self, reader: str | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.reader_name = reader

    def _readers(self) -> list[Any]:
        try:
            from smartcard.Exceptions import ListReadersException, SmartcardException
            from smartcard.System import readers
        except ImportError:
            raise DeviceError(
                "PC/SC のライブラリ (pyscard) がありません。クライアントを再インストールしてください。",
                code="card.pcsc_missing",
            ) from None
        try:
            found = list(readers())
        except (ListReadersException, SmartcardException):
            raise DeviceError(
                "スマートカードのサービス (pcscd / Smart Card) が動いていません。管理者に連絡してください。",
                code="card.pcsc_unavailable",
            ) from None
        if self.reader_name:
            found = [r for r in found if self.reader_name in str(r)]
        return found

    def check(self) -> CheckResult:
        try:
            found = self._readers()
        except DeviceError as exc:
            return CheckResult(False, exc.message)
        if not found:
            return CheckResult(False, "カードリーダーが接続されていません。USBケーブルを確認してください。")
        return CheckResult(
            True, f"カードリーダー「{found[0]}」を利用できます。", {"readers": ", ".join(map(str, found))}
        )

    def read_face_info(self, pin: str) -> CardFaceInfo:
        from smartcard.Exceptions import CardConnectionException, NoCardException

        found = self._readers()
        if not found:
            raise DeviceError(
                "カードリーダーが接続されていません。USBケーブルを確認してください。", code="card.no_reader"
            )
        errors = []
        for reader in found:
            connection = reader.createConnection()
            try:
                connection.connect()
            except (NoCardException, CardConnectionException) as exc:
                errors.append(exc)
                continue
            try:
                return KenhojoSession(connection.transmit).read_face_info(pin)
            except CardConnectionException:
                raise DeviceError(
                    "読み取り中にカードが離れました。カードをリーダーに置いたまま、もう一度お試しください。",
                    code="card.removed",
                ) from None
            finally:
                connection.disconnect()
        raise DeviceError(
            "カードが置かれていません。マイナンバーカードをリーダーに置いてください。", code="card.no_card"
        )
