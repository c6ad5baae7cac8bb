"""Print the forms of a reception: which forms, rendered to PDF, sent to a printer plugin.

Works on a validated :class:`MovementNotice` alone, so the forms can be printed for the resident
to check and sign before the register is confirmed (spec 000 (2)②(キ)); nothing here waits for the
outbox or the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client.devices.printers.base import Printer, PrintJob
from shared.models.movement_notice import MovementNotice
from shared.schemas.print_layout import PrintLayout

from .layouts import LAYOUT_DIR, get_layout, load_layouts
from .render import applies, render_layout


@dataclass(frozen=True)
class PrintedForm:
    """One rendered form: its layout id, 帳票名 and PDF."""

    layout_id: str
    label: str
    pdf: bytes


def forms_for(notice: MovementNotice, folder: Path = LAYOUT_DIR) -> list[PrintLayout]:
    """The layouts (examples excepted) printed for ``notice``: 住民異動届 first, then by id."""
    chosen = [lay for lay in load_layouts(folder).values() if not lay.example and applies(lay, notice)]
    return sorted(chosen, key=lambda lay: (lay.id != "movement-notice", lay.id))


def render_forms(
    notice: MovementNotice, layout_ids: list[str] | None = None, folder: Path = LAYOUT_DIR
) -> list[PrintedForm]:
    """Render ``layout_ids`` (default: :func:`forms_for`) filled from ``notice``."""
    layouts = [get_layout(i, folder) for i in layout_ids] if layout_ids else forms_for(notice, folder)
    return [PrintedForm(lay.id, lay.label, render_layout(lay, notice)) for lay in layouts]


def print_forms(
    notice: MovementNotice,
    printer: Printer,
    layout_ids: list[str] | None = None,
    *,
    copies: int = 1,
) -> list[tuple[PrintedForm, PrintJob]]:
    """Render and print; returns each form with the printer's job."""
    forms = render_forms(notice, layout_ids)
    return [(f, printer.print_pdf(f.pdf, title=f.label, copies=copies)) for f in forms]
