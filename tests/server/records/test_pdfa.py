"""Archived documents are PDF/A-2b, read back with pikepdf, pypdf and poppler: an sRGB OutputIntent,
XMP with pdfaid part 2 / conformance B and the archive fields (described by an extension schema),
every font embedded (also when the upload only named its fonts), no encryption, no script.

veraPDF (the reference validator) is not installable here: it is distributed neither on PyPI nor
in Debian, so these tests check the structure PDF/A requires, not full conformance."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from server.domain.documents.checks import ArchiveInfo, Limits, _pdf_has_script, inspect_upload
from tests.server.records import files

INFO = ArchiveInfo("0b7c-id", "20261130-0007", "power_of_attorney", date(2031, 11, 30), "082104")
LIMITS = Limits(50_000_000, 50, 60_000_000)


def _unembedded_pdf() -> bytes:
    """A form as many systems print it: standard and CID fonts named, not embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setFont("Helvetica", 14)
    c.drawString(72, 760, "Madoguchi archive test")
    c.setFont("HeiseiMin-W3", 14)
    c.drawString(72, 730, "委任状 下妻 太郎")
    c.setFillColorCMYK(0, 1, 1, 0)
    c.rect(72, 600, 200, 80, fill=1)
    c.showPage()
    c.save()
    return out.getvalue()


def _fonts(pdf: pikepdf.Pdf) -> list[tuple[str, Any]]:
    """(name, font descriptor or None) of every font used by a page or a form XObject."""
    found: list[tuple[str, Any]] = []

    def walk(resources: Any) -> None:
        if resources is None:
            return
        for font in (resources.get("/Font") or {}).values():
            if font.get("/Subtype") == "/Type3":
                continue
            target = font.DescendantFonts[0] if font.get("/Subtype") == "/Type0" else font
            found.append((str(font.get("/BaseFont")), target.get("/FontDescriptor")))
        for xobject in (resources.get("/XObject") or {}).values():
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    for page in pdf.pages:
        walk(page.obj.get("/Resources"))
    return found


def _check_pdfa(data: bytes) -> pikepdf.Pdf:
    assert data.startswith(b"%PDF-1.7")
    pdf = pikepdf.open(io.BytesIO(data))
    assert "/Encrypt" not in pdf.trailer and not pdf.is_encrypted
    [intent] = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFA1" and intent.Type == "/OutputIntent"
    profile = intent.DestOutputProfile
    assert int(profile.N) == 3
    icc = profile.read_bytes()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "  # an ICC profile of an RGB colour space
    with pdf.open_metadata() as meta:
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == str(pdf.docinfo.Title) == "受付 20261130-0007"
        assert meta["pdf:Producer"] == str(pdf.docinfo.Producer)
    raw = bytes(pdf.Root.Metadata.read_bytes()).decode()
    for value in ("082104", "20261130-0007", "power_of_attorney", "2031-11-30"):
        assert value in raw
    assert "<pdfaSchema:prefix>madoguchi</pdfaSchema:prefix>" in raw
    from pypdf import PdfReader

    assert not _pdf_has_script(PdfReader(io.BytesIO(data)))
    return pdf


def read_back(pdf: bytes, folder: Path, name: str) -> str:
    """What Tesseract reads on the top of the first page rendered by poppler (spaces removed)."""
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    image = folder / name
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-gray",
            "-png",
            "-singlefile",
            "-H",
            "400",
            "-W",
            "1654",
            str(path),
            str(image),
        ],
        check=True,
    )
    text = subprocess.run(
        ["tesseract", f"{image}.png", "-", "-l", "jpn", "--psm", "6"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "".join(text.split())


def _embedded_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from server.domain.reports.operations_pdf import FONT_NAME, _register_font

    _register_font(None)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setFont(FONT_NAME, 16)
    c.drawString(72, 760, "委任状 下妻 太郎 髙橋 Madoguchi")
    c.showPage()
    c.save()
    return out.getvalue()


def test_named_fonts_keep_their_appearance(tmp_path: Path) -> None:
    """Fonts only named (Helvetica, HeiseiMin-W3) and CMYK colour: the archive is PDF/A with no
    unembedded font, and it looks like the upload (Japanese included)."""
    from server.domain.documents.pdfa import has_unembedded_cid_fonts

    source = _unembedded_pdf()
    assert has_unembedded_cid_fonts(source)
    archived = inspect_upload(source, LIMITS, INFO).pdf
    pdf = _check_pdfa(archived)
    assert not has_unembedded_cid_fonts(archived)
    for _name, descriptor in _fonts(pdf):
        assert descriptor is not None and any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
        )
    # Read back: the Japanese line is still 委任状 下妻 … (Ghostscript's CID substitute garbled it).
    seen = read_back(archived, tmp_path, "archived")
    assert "委任状" in seen and "下妻" in seen and "Madoguchi" in seen, seen


def test_embedded_fonts_stay_embedded_and_look_the_same(tmp_path: Path) -> None:
    source = _embedded_pdf()
    archived = inspect_upload(source, LIMITS, INFO).pdf
    pdf = _check_pdfa(archived)
    assert len(_fonts(pdf)) >= 1
    path = tmp_path / "archived.pdf"
    path.write_bytes(archived)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), listing  # the emb column
    seen = read_back(archived, tmp_path, "archived")
    assert "委任状" in seen and "下妻" in seen, seen
    # Known loss, documented in docs/records.md: Ghostscript 10.0 drops the ToUnicode map of
    # reportlab's subset TrueType fonts, so pdftotext finds no text in this archive.


@pytest.mark.parametrize("kind", ["png", "tiff"])
def test_scans_are_archived_as_pdfa(kind: str) -> None:
    data = files.image("PNG") if kind == "png" else files.image("TIFF", frames=2)
    archived = inspect_upload(data, LIMITS, INFO)
    pdf = _check_pdfa(archived.pdf)
    assert len(pdf.pages) == archived.page_count
