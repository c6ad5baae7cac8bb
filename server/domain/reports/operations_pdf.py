"""The 運用報告 as a printable A4 PDF: summary, bar charts (時間帯別, 手続き別, 処理時間の分布) and
tables (端末別, 職員別), all in IPAmj明朝 embedded as a subset.

The font is ``Settings.ipamj_font`` (``MADOGUCHI_IPAMJ_FONT``) or else Debian's
``fonts-ipamj-mincho`` paths; a missing font is an error, never a substitute. Variation
selectors are dropped from labels here (a statistics report, not a form: reportlab's plain cmap
would draw them as boxes).
"""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from server.domain.reports.operations import minutes, period_label
from shared.api_records import CountRow, OperationReport
from shared.errors import MadoguchiError

FONT_NAME = "IPAmjMincho"
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf"),
    Path("/usr/share/fonts/opentype/ipamj/ipamjm.ttf"),
)
BAR = colors.HexColor("#3b6ea5")
JST = ZoneInfo("Asia/Tokyo")
_VS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_lock = threading.Lock()

#: Longest label drawn next to a horizontal bar before it is shortened.
_LABEL_CHARS = 16


class ReportFontMissing(MadoguchiError):
    code = "report.font"
    http_status = 500
    default_message = (
        "帳票用フォント IPAmj明朝 が見つかりません。fonts-ipamj-mincho を導入するか "
        "MADOGUCHI_IPAMJ_FONT にフォントファイルを指定してください。"
    )


def _register_font(configured: Path | None) -> None:
    with _lock:
        if FONT_NAME in pdfmetrics.getRegisteredFontNames():
            return
        candidates = [configured] if configured else list(FONT_PATHS)
        for path in candidates:
            if path.is_file():
                pdfmetrics.registerFont(TTFont(FONT_NAME, str(path)))
                return
        raise ReportFontMissing()


def _plain(text: str) -> str:
    return _VS.sub("", text)


def _short(text: str, limit: int = _LABEL_CHARS) -> str:
    text = _plain(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _axis_font(chart: VerticalBarChart | HorizontalBarChart, size: float) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = FONT_NAME
        axis.labels.fontSize = size
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None


def _value_axis(chart: VerticalBarChart | HorizontalBarChart, values: list[int]) -> None:
    top = max(values, default=0)
    step = _nice_step(top)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = step * (top // step + 1)  # headroom for the bar labels
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = "%d"


def _nice_step(top: int) -> int:
    """1, 2, 5, 10, 20, 50 … : the smallest giving at most six gridlines up to ``top``."""
    scale = 1
    while True:
        for base in (1, 2, 5):
            if base * scale * 6 >= top:
                return base * scale
        scale *= 10


def hour_chart(by_hour: list[int], width: float) -> Drawing:
    """Vertical bars, one per hour of day 0–23 (JST)."""
    height = 60 * mm
    drawing = Drawing(width, height, initialFontName=FONT_NAME)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 10 * mm
    chart.width, chart.height = width - 16 * mm, height - 16 * mm
    chart.data = [list(by_hour)]
    chart.categoryAxis.categoryNames = [str(h) for h in range(24)]
    _axis_font(chart, 7)
    _value_axis(chart, by_hour)
    chart.barSpacing = 1
    drawing.add(chart)
    drawing.add(
        String(
            width / 2, 1 * mm, "時 (日本時間、登録時刻)", fontName=FONT_NAME, fontSize=7, textAnchor="middle"
        )
    )
    return drawing


def bar_chart(rows: list[CountRow], width: float) -> Drawing:
    """Horizontal bars, one per row, the first at the top."""
    rows = rows or [CountRow(key="", label="(なし)", count=0)]
    height = max(25 * mm, (8 * len(rows) + 12) * mm)
    drawing = Drawing(width, height, initialFontName=FONT_NAME)
    chart = HorizontalBarChart()
    chart.x, chart.y = 45 * mm, 8 * mm
    chart.width, chart.height = width - 55 * mm, height - 12 * mm
    chart.data = [[r.count for r in reversed(rows)]]
    chart.categoryAxis.categoryNames = [_short(r.label) for r in reversed(rows)]
    _axis_font(chart, 8)
    _value_axis(chart, [r.count for r in rows])
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT_NAME
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    drawing.add(chart)
    return drawing


def render(
    report: OperationReport, *, font: Path | None = None, generated_at: datetime | None = None
) -> bytes:
    """The report as PDF bytes (A4 portrait, 1–3 pages)."""
    _register_font(font)
    body = ParagraphStyle("body", fontName=FONT_NAME, fontSize=9.5, leading=14)
    h1 = ParagraphStyle("h1", fontName=FONT_NAME, fontSize=16, leading=22, spaceAfter=2 * mm)
    h2 = ParagraphStyle(
        "h2", fontName=FONT_NAME, fontSize=12, leading=16, spaceBefore=5 * mm, spaceAfter=2 * mm
    )
    out = io.BytesIO()
    title = f"運用報告 {period_label(report)}"
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {report.municipality}",
        author="Madoguchi",
        subject="窓口受付の運用報告",
        initialFontName=FONT_NAME,  # else every page names an unembedded Helvetica
    )
    width = doc.width
    stamp = (generated_at or datetime.now(JST)).astimezone(JST)
    p = report.processing
    summary = Table(
        [
            ["団体", f"{_plain(report.municipality)} ({report.lg_code})"],
            ["期間", f"{report.date_from.isoformat()} 〜 {report.date_to.isoformat()}"],
            ["受付件数", f"{report.total} 件"],
            ["処理時間 (中央値)", f"{minutes(p.median_seconds)} 分"],
            ["処理時間 (90パーセンタイル)", f"{minutes(p.p90_seconds)} 分"],
            ["処理時間を計測した受付", f"{p.measured} 件"],
        ],
        colWidths=[55 * mm, width - 55 * mm],
        hAlign="LEFT",
    )
    summary.setStyle(_table_style())
    story: list[object] = [
        Paragraph(_escape(f"{title}　{_plain(report.municipality)}"), h1),
        Paragraph(f"作成 {stamp:%Y-%m-%d %H:%M} (日本時間)", body),
        Spacer(1, 3 * mm),
        summary,
        KeepTogether([Paragraph("時間帯別の受付件数", h2), hour_chart(report.by_hour, width)]),
        KeepTogether([Paragraph("手続き別の受付件数", h2), bar_chart(report.by_kind, width)]),
        KeepTogether(
            [
                Paragraph("処理時間の分布 (受付開始から登録まで)", h2),
                bar_chart(p.buckets, width),
            ]
        ),
        KeepTogether([Paragraph("端末別の受付件数", h2), _count_table("端末", report.by_terminal, width)]),
        KeepTogether([Paragraph("職員別の受付件数", h2), _count_table("職員", report.by_clerk, width)]),
    ]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _table_style() -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
            ("FONTSIZE", (0, 0), (-1, -1), 9.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )


def _count_table(head: str, rows: list[CountRow], width: float) -> Table:
    total = sum(r.count for r in rows) or 1
    data = [[head, "件数", "割合"]] + [
        [_plain(r.label), str(r.count), f"{100 * r.count / total:.1f}%"] for r in rows
    ]
    if not rows:
        data.append(["(なし)", "0", "-"])
    table = Table(data, colWidths=[width - 50 * mm, 25 * mm, 25 * mm], hAlign="LEFT", repeatRows=1)
    style = _table_style()
    style.add("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f1"))
    style.add("BACKGROUND", (0, 1), (0, -1), colors.white)
    style.add("ALIGN", (1, 0), (-1, -1), "RIGHT")
    table.setStyle(style)
    return table


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT_NAME, 8)
    canvas.drawCentredString(A4[0] / 2, 9 * mm, f"- {doc.page} -")
    canvas.restoreState()
