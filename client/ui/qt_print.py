"""Printing through the operating system's print system with Qt (printer plugins ``qt`` and
``windows-spooler``).

The client renders every form to PDF itself (:mod:`client.core.print`); here each PDF page is
rasterised at the printer's resolution and drawn on a :class:`QPrinter`. QPrinter hands the job to
the OS: CUPS on Linux, the Windows print spooler (GDI) on Windows. So ``windows-spooler`` is this
same plugin, only limited to Windows: no pywin32 and no PDF viewer association (ShellExecute
"print") is needed.

Rasterising: ``PySide6.QtPdf`` (``QPdfDocument``) when the installed PySide6 has it (the Addons
wheel); otherwise ``pdftoppm`` (poppler-utils). The project depends on ``pyside6-essentials``,
which has no QtPdf, so on Linux the poppler path is the one used; on Windows install either
PySide6-Addons or poppler (``pdftoppm`` on PATH, or the ``pdftoppm`` setting).

Paper: each page's size is read from the PDF (the layout's paper, A4 / A3 / JIS B5, portrait or
landscape) and set on the printer page by page. Copies: the printer's own copy count where the
driver supports it, otherwise the pages are sent ``copies`` times (collated).

Settings: ``printer`` (the OS printer name; empty = the OS default printer), ``dpi`` (raster
resolution, default: the printer's, at most 600), ``pdftoppm`` (the command), ``output_folder``
(instead of a printer, Qt writes its PDF output there: for checking the path without a printer,
and for the tests).

Qt is imported inside the functions, so loading the printer registry pulls in no Qt.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client.devices.printers.base import Printer, PrintJob
from client.devices.printers.registry import registry
from shared.errors import DeviceError
from shared.plugins import CheckResult
from shared.schemas.print_layout import PAPER_MM

if TYPE_CHECKING:
    from PySide6.QtGui import QImage
    from PySide6.QtPrintSupport import QPrinter

PT_PER_MM = 72 / 25.4
#: Raster resolution used when the printer does not say (and the ceiling: 600 dpi A3 is 100 MB a page).
DEFAULT_DPI = 300
MAX_DPI = 600
#: Ceiling of the default (the printer's own resolution): 300 dpi is 70 MB a page at A3.
DEFAULT_MAX_DPI = 300
TIMEOUT_S = 120
#: Tolerance when matching a PDF page to a named paper size.
PAPER_TOLERANCE_MM = 2.0


@dataclass(frozen=True)
class PageSpec:
    """One PDF page: its size in millimetres as drawn (width × height)."""

    width_mm: float
    height_mm: float

    @property
    def landscape(self) -> bool:
        return self.width_mm > self.height_mm

    def paper(self) -> str | None:
        """The named paper (A4, A3, B5 = JIS B5) of this page, either orientation, or None."""
        short, long = sorted((self.width_mm, self.height_mm))
        for name, (w, h) in PAPER_MM.items():
            if abs(short - w) <= PAPER_TOLERANCE_MM and abs(long - h) <= PAPER_TOLERANCE_MM:
                return name
        return None


def pdf_pages(pdf: bytes) -> list[PageSpec]:
    """The pages of ``pdf`` (their displayed size, rotation applied); Japanese error if unreadable."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not pdf.startswith(b"%PDF"):
        raise DeviceError("印刷データがPDFではありません。", code="printer.not_pdf")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        specs = []
        for page in reader.pages:
            box = page.mediabox
            w, h = float(box.width) / PT_PER_MM, float(box.height) / PT_PER_MM
            if int(page.get("/Rotate", 0) or 0) % 180:
                w, h = h, w
            specs.append(PageSpec(w, h))
    except (PyPdfError, ValueError, KeyError, OSError) as exc:
        raise DeviceError("印刷データのPDFが壊れています。", code="printer.broken_pdf") from exc
    if not specs:
        raise DeviceError("印刷データのPDFにページがありません。", code="printer.broken_pdf")
    return specs


def _qtpdf_available() -> bool:
    try:
        from PySide6 import QtPdf  # noqa: F401
    except ImportError:
        return False
    return True


def rasterise(pdf: bytes, dpi: int, *, pdftoppm: str = "pdftoppm") -> Iterator[QImage]:
    """Each page of ``pdf`` as a QImage at ``dpi`` (QtPdf if present, else pdftoppm), one at a time
    so that an A3 job never holds more than one page in memory."""
    if _qtpdf_available():
        yield from _rasterise_qtpdf(pdf, dpi)
    else:
        yield from _rasterise_pdftoppm(pdf, dpi, pdftoppm)


def _rasterise_qtpdf(pdf: bytes, dpi: int) -> Iterator[QImage]:  # pragma: no cover - needs PySide6-Addons
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtPdf import QPdfDocument

    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    doc = QPdfDocument()
    doc.load(buffer)
    if doc.status() != QPdfDocument.Status.Ready:
        raise DeviceError("印刷データのPDFを読み込めませんでした。", code="printer.broken_pdf")
    for i in range(doc.pageCount()):
        size = doc.pagePointSize(i)
        px = QSize(round(size.width() / 72 * dpi), round(size.height() / 72 * dpi))
        yield doc.render(i, px)


def _rasterise_pdftoppm(pdf: bytes, dpi: int, command: str) -> Iterator[QImage]:
    from PySide6.QtGui import QImage

    exe = shutil.which(command)
    if exe is None:
        raise DeviceError(
            "PDFを印刷用の画像にできません: pdftoppm がありません。poppler-utils を導入してください。",
            code="printer.rasteriser_missing",
        )
    with tempfile.TemporaryDirectory(prefix="madoguchi-print-") as tmp:
        src = Path(tmp) / "job.pdf"
        src.write_bytes(pdf)
        try:
            done = subprocess.run(  # noqa: S603 - fixed program, arguments are not shell-parsed
                [exe, "-r", str(dpi), "-png", str(src), str(Path(tmp) / "page")],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DeviceError(
                "PDFを印刷用の画像にできませんでした（時間切れ）。", code="printer.timeout"
            ) from exc
        if done.returncode != 0:
            raise DeviceError("印刷データのPDFが壊れています。", code="printer.broken_pdf")
        pages = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(re.findall(r"\d+", p.stem)[-1]))
        for page in pages:
            image = QImage(str(page))
            if image.isNull():
                raise DeviceError("PDFを印刷用の画像にできませんでした。", code="printer.broken_pdf")
            yield image


def page_layout(spec: PageSpec) -> Any:
    """The QPageLayout for one page: the named paper (A4, A3, JIS B5) or a custom size, its
    orientation, no margins (the forms place everything in millimetres from the paper's corner)."""
    from PySide6.QtCore import QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize

    ids = {"A4": QPageSize.PageSizeId.A4, "A3": QPageSize.PageSizeId.A3, "B5": QPageSize.PageSizeId.JisB5}
    name = spec.paper()
    if name is not None:
        size = QPageSize(ids[name])
    else:
        short, long = sorted((spec.width_mm, spec.height_mm))
        exact = QPageSize.SizeMatchPolicy.ExactMatch
        size = QPageSize(QSizeF(short, long), QPageSize.Unit.Millimeter, "", exact)
    orientation = QPageLayout.Orientation.Landscape if spec.landscape else QPageLayout.Orientation.Portrait
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


class QtPrinter(Printer):
    """The OS printer through Qt (CUPS on Linux, the spooler on Windows)."""

    plugin_id = "qt"
    label = "OSのプリンター（Qt印刷: LinuxはCUPS、Windowsはスプーラー）"

    def __init__(
        self,
        printer: str | None = None,
        dpi: int | None = None,
        pdftoppm: str = "pdftoppm",
        output_folder: str | Path | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.printer_name = printer or None
        self.dpi = dpi
        self.pdftoppm = pdftoppm
        self.output_folder = Path(output_folder) if output_folder else None

    # -- choosing the printer ------------------------------------------------------------------

    def _where(self) -> str:
        return f"「{self.printer_name}」" if self.printer_name else "（既定のプリンター）"

    def _open(self, title: str) -> tuple[QPrinter, str | None]:
        """The QPrinter for one job and, for ``output_folder``, the PDF it writes."""
        from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

        if self.output_folder is not None:
            try:
                self.output_folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DeviceError(
                    f"出力フォルダーを作成できません: {self.output_folder}", code="printer.write_failed"
                ) from exc
            safe = re.sub(r"[^\w\-]+", "_", title)[:40] or "document"
            path = self.output_folder / f"{safe}-{uuid.uuid4().hex[:12]}.pdf"
            qp = QPrinter(QPrinter.PrinterMode.HighResolution)
            qp.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            qp.setOutputFileName(str(path))
            return qp, str(path)
        names = QPrinterInfo.availablePrinterNames()
        if self.printer_name:
            info = QPrinterInfo.printerInfo(self.printer_name)
            if info.isNull():
                known = "、".join(names) if names else "なし"
                raise DeviceError(
                    f"プリンター「{self.printer_name}」が見つかりません。この端末のプリンター: {known}",
                    code="printer.not_found",
                )
        else:
            info = QPrinterInfo.defaultPrinter()
            if info.isNull():
                raise DeviceError(
                    "既定のプリンターがありません。OSでプリンターを設定するか、端末プロファイルの"
                    "printer 設定にプリンター名を書いてください。",
                    code="printer.not_found",
                )
        qp = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        if qp.outputFormat() != QPrinter.OutputFormat.NativeFormat or not qp.isValid():
            raise DeviceError(f"プリンター{self._where()}を使えません。", code="printer.not_found")
        return qp, None

    # -- printing ------------------------------------------------------------------------------

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QPainter
        from PySide6.QtPrintSupport import QPrinter

        specs = pdf_pages(pdf)
        copies = max(1, int(copies))
        qp, location = self._open(title)
        qp.setDocName(title)
        qp.setFullPage(True)
        dpi = self.dpi or min(qp.resolution(), DEFAULT_MAX_DPI) or DEFAULT_DPI
        dpi = max(72, min(int(dpi), MAX_DPI))
        driver_copies = qp.supportsMultipleCopies()
        if driver_copies:
            qp.setCopyCount(copies)
            qp.setCollateCopies(True)
        rounds = 1 if driver_copies else copies
        images = list(rasterise(pdf, dpi, pdftoppm=self.pdftoppm)) if rounds > 1 else None
        if not qp.setPageLayout(page_layout(specs[0])):
            raise DeviceError(
                f"プリンター{self._where()}は用紙 {specs[0].paper() or 'この大きさ'} を使えません。",
                code="printer.paper",
            )
        painter = QPainter()
        if not painter.begin(qp):
            raise DeviceError(
                f"プリンター{self._where()}で印刷を始められませんでした。", code="printer.rejected"
            )
        try:
            first = True
            for _round in range(rounds):
                pages = images if images is not None else rasterise(pdf, dpi, pdftoppm=self.pdftoppm)
                for spec, image in zip(specs, pages, strict=True):
                    if not first:
                        qp.setPageLayout(page_layout(spec))
                        if not qp.newPage():
                            message = f"プリンター{self._where()}への印刷が途中で失敗しました。"
                            raise DeviceError(message, code="printer.failed")
                    first = False
                    target = QRectF(qp.paperRect(QPrinter.Unit.DevicePixel))
                    painter.drawImage(target, image)
        except BaseException:
            qp.abort()
            raise
        finally:
            painter.end()
        if qp.printerState() == QPrinter.PrinterState.Error:
            raise DeviceError(f"プリンター{self._where()}への印刷に失敗しました。", code="printer.failed")
        return PrintJob(uuid.uuid4().hex[:12], location or self.printer_name)

    def check(self) -> CheckResult:
        if self.output_folder is not None:
            folder = str(self.output_folder)
            return CheckResult(True, f"PDFとして {folder} に出力します（確認用）。", {"folder": folder})
        from PySide6.QtPrintSupport import QPrinterInfo

        if not _qtpdf_available() and shutil.which(self.pdftoppm) is None:
            return CheckResult(False, "pdftoppm（poppler-utils）も QtPdf もないため、PDFを印刷できません。")
        names = QPrinterInfo.availablePrinterNames()
        if self.printer_name:
            if QPrinterInfo.printerInfo(self.printer_name).isNull():
                return CheckResult(
                    False,
                    f"プリンター「{self.printer_name}」が見つかりません"
                    f"（この端末: {'、'.join(names) or 'なし'}）。",
                )
            name = self.printer_name
            return CheckResult(True, f"プリンター「{name}」に印刷します。", {"printer": name})
        default = QPrinterInfo.defaultPrinterName()
        if not default:
            return CheckResult(False, "既定のプリンターがありません。")
        return CheckResult(True, f"既定のプリンター「{default}」に印刷します。", {"printer": default})


class WindowsSpoolerPrinter(QtPrinter):
    """The Windows print spooler: the ``qt`` plugin on Windows (QPrinter's native Windows backend
    sends GDI jobs to the spooler). Kept as its own id so a station profile can require Windows."""

    plugin_id = "windows-spooler"
    label = "Windows スプーラー（Qt印刷）"

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        if sys.platform != "win32" and self.output_folder is None:
            raise DeviceError(
                "Windows スプーラーは Windows でだけ使えます。"
                "この端末では qt または cups を設定してください。",
                code="printer.not_available",
            )
        return super().print_pdf(pdf, title=title, copies=copies)

    def check(self) -> CheckResult:
        if sys.platform != "win32":
            return CheckResult(
                False, "Windows スプーラーは Windows でだけ使えます（Linux では qt か cups）。"
            )
        return super().check()


registry.register(QtPrinter)
registry.register(WindowsSpoolerPrinter)
