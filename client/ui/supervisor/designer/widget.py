"""The template designer: open a sample scan, drag rectangles to make zones, name them, pick
their types and where they go in the 異動届, mark printed text as anchors, test-read the sample,
save as a new template or version. All logic is in :class:`client.core.ocr.draft.TemplateDraft`;
this widget only shows it. Reading runs off the UI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.core.ocr.canvas_fill import DOC_LABELS
from client.core.ocr.draft import TemplateDraft
from client.core.ocr.pipeline import shared_engine
from client.core.ocr.templates import DEFAULT_ROOT
from shared.errors import describe_validation_errors
from shared.schemas.ocr_template import DocumentType, ZoneType

from ...worker import error_text, run_in_background

COLUMNS = ["項目名", "表示名", "種類", "位置 (x, y, 幅, 高さ)", "異動届の項目", "アンカー文字", "試し読み"]


class _Canvas(QGraphicsView):
    """Shows the sample; a mouse drag emits the rectangle in image pixels."""

    drawn = Signal(QRectF)

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self._start: QPointF | None = None
        self._rubber: QGraphicsRectItem | None = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._start = self.mapToScene(event.position().toPoint())
        self._rubber = self.scene().addRect(QRectF(self._start, self._start), QPen(QColor("red"), 3))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None and self._rubber is not None:
            self._rubber.setRect(
                QRectF(self._start, self.mapToScene(event.position().toPoint())).normalized()
            )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._start is None or self._rubber is None:
            return
        rect = self._rubber.rect()
        self.scene().removeItem(self._rubber)
        self._start, self._rubber = None, None
        if rect.width() > 5 and rect.height() > 5:
            self.drawn.emit(rect)


#: The zone types as the supervisor reads them (the stored value stays the English id).
ZONE_LABELS: dict[ZoneType, str] = {
    ZoneType.text: "文字",
    ZoneType.name: "氏名",
    ZoneType.roman_name: "ローマ字氏名",
    ZoneType.kana: "フリガナ",
    ZoneType.address: "住所",
    ZoneType.date: "日付",
    ZoneType.digits: "数字",
    ZoneType.my_number: "個人番号",
    ZoneType.resident_code: "住民票コード",
    ZoneType.postal_code: "郵便番号",
    ZoneType.residence_card_number: "在留カード番号",
    ZoneType.license_number: "免許証番号",
    ZoneType.sex: "性別",
    ZoneType.relationship: "続柄",
    ZoneType.nationality: "国籍・地域",
    ZoneType.residence_status: "在留資格",
    ZoneType.checkbox: "チェック欄",
    ZoneType.image: "画像（読まない）",
}


class TemplateDesigner(QWidget):
    def __init__(self, root: Path = DEFAULT_ROOT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = root
        self.draft = TemplateDraft()
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.open_sample_button = QPushButton("見本を開く")
        self.open_template_button = QPushButton("テンプレートを開く")
        self.test_button = QPushButton("試し読み")
        self.save_button = QPushButton("保存")
        for button in (
            self.open_sample_button,
            self.open_template_button,
            self.test_button,
            self.save_button,
        ):
            bar.addWidget(button)
        layout.addLayout(bar)
        meta = QHBoxLayout()
        self.doc_type = QComboBox()
        for kind in DocumentType:
            self.doc_type.addItem(DOC_LABELS.get(kind.value, kind.value), kind)
        self.issuer = QLineEdit(self.draft.issuer)
        self.version = QLineEdit(self.draft.version)
        self.label = QLineEdit()
        for text, widget in (
            ("書類", self.doc_type),
            ("発行元", self.issuer),
            ("版", self.version),
            ("表示名", self.label),
        ):
            meta.addWidget(QLabel(text))
            meta.addWidget(widget)
        layout.addLayout(meta)
        split = QSplitter(Qt.Orientation.Vertical)
        self.canvas = _Canvas()
        split.addWidget(self.canvas)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        split.addWidget(self.table)
        layout.addWidget(split, 1)
        self.message = QLabel()
        layout.addWidget(self.message)

        self.canvas.drawn.connect(self._zone_drawn)
        self.open_sample_button.clicked.connect(self._choose_sample)
        self.open_template_button.clicked.connect(self._choose_template)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test_read)

    # -- actions ---------------------------------------------------------------------------

    def open_sample(self, path: Path) -> None:
        self.draft.open_sample(path)
        self.canvas.scene().clear()
        self.canvas.scene().addPixmap(QPixmap(str(path)))
        self._show_zones()

    def open_template(self, path: Path) -> None:
        self.draft = TemplateDraft.load(path)
        self.doc_type.setCurrentIndex(self.doc_type.findData(self.draft.doc_type))
        self.issuer.setText(self.draft.issuer)
        self.version.setText(self.draft.version)
        self.label.setText(self.draft.label)
        if self.draft.sample is not None:
            self.canvas.scene().clear()
            self.canvas.scene().addPixmap(QPixmap(str(self.draft.sample)))
        self._show_zones()

    def add_zone(self, rect: QRectF) -> None:
        n = len(self.draft.zones) + 1
        self._read_table()
        self.draft.add_zone(
            f"field_{n}",
            f"項目{n}",
            ZoneType.text,
            int(rect.x()),
            int(rect.y()),
            int(rect.width()),
            int(rect.height()),
        )
        self._show_zones()

    def save(self) -> Path | None:
        self._read_table()
        try:
            path = self.draft.save(self.root)
        except Exception as exc:
            self.message.setText(_describe(exc))
            return None
        self.message.setText(f"保存しました: {path}")
        return path

    def test_read(self) -> None:
        self._read_table()
        run_in_background(
            self.draft.test_read, shared_engine(), on_result=self._show_reads, on_error=self._failed
        )

    # -- view ------------------------------------------------------------------------------

    def _zone_drawn(self, rect: QRectF) -> None:
        self.add_zone(rect)

    def _choose_sample(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "見本の画像", "", "画像 (*.png *.jpg *.jpeg *.tif *.tiff)"
        )
        if name:
            self.open_sample(Path(name))

    def _choose_template(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "テンプレート", str(self.root), "テンプレート (*.yaml)")
        if name:
            self.open_template(Path(name))

    def _show_zones(self) -> None:
        self.table.setRowCount(len(self.draft.zones))
        for row, zone in enumerate(self.draft.zones):
            b = zone.box
            values = [
                zone.field,
                zone.label,
                None,
                f"{b.x}, {b.y}, {b.width}, {b.height}",
                zone.path or "",
                zone.anchor_text or "",
            ]
            for col, value in enumerate(values):
                if value is not None:
                    self.table.setItem(row, col, QTableWidgetItem(value))
            kinds = QComboBox()
            for kind in ZoneType:
                kinds.addItem(ZONE_LABELS.get(kind, kind.value), kind)
            kinds.setCurrentIndex(kinds.findData(zone.type))
            self.table.setCellWidget(row, 2, kinds)
            self.canvas.scene().addRect(
                QRectF(b.x, b.y, b.width, b.height), QPen(QColor("blue"), 3), QBrush(Qt.BrushStyle.NoBrush)
            )

    def _read_table(self) -> None:
        """Copy the supervisor's edits in the table back into the draft."""
        self.draft.doc_type = self.doc_type.currentData()
        self.draft.issuer = self.issuer.text().strip()
        self.draft.version = self.version.text().strip()
        self.draft.label = self.label.text().strip()
        for row, zone in enumerate(self.draft.zones):

            def text(col: int, row: int = row) -> str:
                item = self.table.item(row, col)
                return item.text().strip() if item is not None else ""

            zone.field = text(0) or zone.field
            zone.label = text(1) or zone.label
            combo = self.table.cellWidget(row, 2)
            if isinstance(combo, QComboBox):
                zone.type = combo.currentData()
            zone.path = text(4) or None
            zone.anchor_text = text(5) or None

    def _show_reads(self, reads: dict[str, tuple[str, str | None]]) -> None:
        for row, zone in enumerate(self.draft.zones):
            if zone.field in reads:
                text, problem = reads[zone.field]
                self.table.setItem(row, 6, QTableWidgetItem(text + (f"（{problem}）" if problem else "")))
        self.message.setText("試し読みが終わりました。")

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(error_text(exc))


def _describe(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "\n".join(
            f"{e.get('field', '')}: {e['message']}" for e in describe_validation_errors(exc.errors())
        )
    return str(exc)
