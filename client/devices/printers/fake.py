"""Fake printer: writes each job as a PDF file into a folder."""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import Printer, PrintJob
from .registry import registry


@registry.register
class FakePrinter(Printer):
    """Settings: ``folder`` (where the PDFs go; default a temporary folder)."""

    plugin_id = "fake"
    label = "テスト用プリンター（PDFをフォルダーに保存）"
    is_fake = True

    def __init__(self, folder: str | Path | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.folder = Path(folder) if folder else Path(tempfile.gettempdir()) / "madoguchi-print"

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        if not pdf.startswith(b"%PDF"):
            raise DeviceError("印刷データがPDFではありません。", code="printer.not_pdf")
        self.folder.mkdir(parents=True, exist_ok=True)
        job_id = uuid.uuid4().hex[:12]
        safe = re.sub(r"[^\w\-]+", "_", title)[:40] or "document"
        path = self.folder / f"{safe}-{job_id}.pdf"
        path.write_bytes(pdf)
        return PrintJob(job_id, str(path))

    def check(self) -> CheckResult:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return CheckResult(False, f"出力フォルダーを作成できません: {self.folder}")
        return CheckResult(
            True, f"テスト用プリンターです（出力先: {self.folder}）。", {"folder": str(self.folder)}
        )
