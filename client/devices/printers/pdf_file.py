"""PDF file printer: saves each job as a PDF file in a folder (to print later or archive by hand)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from client.core.files import write_bytes_atomic
from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import Printer, PrintJob
from .registry import registry


def safe_name(title: str) -> str:
    return re.sub(r"[^\w\-]+", "_", title)[:60] or "document"


@registry.register
class PdfFilePrinter(Printer):
    """Settings: ``folder`` (required) where ``<日時>-<帳票名>-<id>.pdf`` files are written."""

    plugin_id = "pdf-file"
    label = "PDFファイルに保存"

    def __init__(self, folder: str | Path | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.folder = Path(folder) if folder else None

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        if not pdf.startswith(b"%PDF"):
            raise DeviceError("印刷データがPDFではありません。", code="printer.not_pdf")
        if self.folder is None:
            raise DeviceError("PDFの保存先フォルダーが設定されていません。", code="printer.not_configured")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            job_id = uuid.uuid4().hex[:12]
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.folder / f"{stamp}-{safe_name(title)}-{job_id}.pdf"
            write_bytes_atomic(path, pdf)
        except OSError as exc:
            raise DeviceError(
                f"PDFを保存できませんでした（{self.folder}）。フォルダーの権限と空き容量を確認してください。",
                code="printer.write_failed",
            ) from exc
        return PrintJob(job_id, str(path))

    def check(self) -> CheckResult:
        if self.folder is None:
            return CheckResult(False, "PDFの保存先フォルダー（folder）が設定されていません。")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return CheckResult(False, f"保存先フォルダーを作成できません: {self.folder}")
        if not os.access(self.folder, os.W_OK):
            return CheckResult(False, f"保存先フォルダーに書き込めません: {self.folder}")
        return CheckResult(True, f"PDFを {self.folder} に保存します。", {"folder": str(self.folder)})
