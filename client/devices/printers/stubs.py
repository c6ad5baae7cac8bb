"""Thin placeholders for printing paths that are not built yet; ``check()`` says so honestly.

- ``qt`` — the Qt print system (QPdfDocument → QPainter → QPrinter, with QPrintDialog): one code
  path for Linux (CUPS) and Windows (GDI/XPS spooler), printing a 300-dpi raster of the PDF. It
  needs the UI layer (Qt lives only in ``client/ui``); to be wired from there.
- ``windows-spooler`` — direct to the Windows spooler. Not available on Linux; on Windows the
  ``qt`` path is preferred (ShellExecute "print" depends on the PDF viewer association).
"""

from __future__ import annotations

import sys

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import Printer, PrintJob
from .registry import registry


@registry.register
class QtPrinter(Printer):
    plugin_id = "qt"
    label = "Qt印刷（OSのプリンター）"

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        raise DeviceError(
            "Qt印刷はまだ使えません。cups または pdf-file のプリンターを設定してください。",
            code="printer.not_available",
        )

    def check(self) -> CheckResult:
        return CheckResult(False, "Qt印刷はまだ実装されていません（cups または pdf-file を使ってください）。")


@registry.register
class WindowsSpoolerPrinter(Printer):
    plugin_id = "windows-spooler"
    label = "Windows スプーラー"

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        raise DeviceError("Windows スプーラーへの印刷はまだ使えません。", code="printer.not_available")

    def check(self) -> CheckResult:
        if sys.platform != "win32":
            return CheckResult(False, "Windows スプーラーは Windows でだけ使えます。")
        return CheckResult(False, "Windows スプーラーへの印刷はまだ実装されていません。")
