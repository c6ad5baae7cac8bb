"""Archive PDFs as PDF/A-2b: Ghostscript's pdfwrite converts, pikepdf writes the metadata.

1. Ghostscript (``gs -dPDFA=2 -dPDFACompatibilityPolicy=1``, ``-dSAFER``) rewrites the checked
   upload: fonts embedded, colour converted to RGB, an OutputIntent ``GTS_PDFA1`` with the sRGB
   ICC profile Ghostscript ships, no encryption, no actions. The ICC profile is read through
   ``--permit-file-read`` only. A font the file only *names* is replaced by an embedded
   substitute (the URW clones of the standard fonts) — except a CID font (Japanese text): there
   Ghostscript's substitute garbled the characters (Ghostscript 10.0, reportlab's HeiseiMin-W3),
   so such a PDF is converted with its text drawn as outlines (``-dNoOutputFonts``). An archive
   must look exactly like what was received; those pages keep their appearance, but their text
   can no longer be selected.
2. pikepdf replaces the XMP packet with ours — ``pdfaid:part=2``/``conformance=B``, title,
   producer and dates equal to the Info dictionary, and the ``madoguchi:`` fields (reception,
   document class, retention date, municipality) described by a PDF/A extension schema, as
   PDF/A requires for properties outside the predefined schemas.

Input that Ghostscript cannot convert is refused (``attachment.pdfa``) rather than archived
as something that is not PDF/A. A missing Ghostscript is a server error (``archive.pdfa_engine``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from shared.errors import InvalidInput, MadoguchiError

if TYPE_CHECKING:
    from server.domain.documents.checks import ArchiveInfo

#: sRGB IEC61966-2.1 profile of Debian's ``libgs-common`` (package ``ghostscript``).
ICC_CANDIDATES = (
    Path("/usr/share/color/icc/ghostscript/srgb.icc"),
    Path("/usr/share/ghostscript/iccprofiles/srgb.icc"),
)
PRODUCER = "Madoguchi (Ghostscript pdfwrite, pikepdf)"
TIMEOUT_SECONDS = 300
NS = "https://madoguchi.example/ns/archive/1.0/"
FIELDS = ("LgCode", "ReceptionId", "ReceptionNumber", "DocumentClass", "RetainUntil")
FIELD_DESCRIPTIONS = {
    "LgCode": "全国地方公共団体コード",
    "ReceptionId": "受付ID",
    "ReceptionNumber": "受付番号",
    "DocumentClass": "文書の種類",
    "RetainUntil": "保存期限",
}


class PdfaEngineMissing(MadoguchiError):
    code = "archive.pdfa_engine"
    http_status = 500
    default_message = (
        "PDF/A への変換に必要な Ghostscript がサーバーにありません。管理者に連絡してください"
        " (quickstart で導入されます)。"
    )


def _icc_profile() -> Path:
    for path in ICC_CANDIDATES:
        if path.is_file():
            return path
    raise PdfaEngineMissing("PDF/A の出力インテントに使う sRGB ICC プロファイルが見つかりません。")


def _ps_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _definition(icc: Path) -> str:
    """Ghostscript's PDFA_def.ps, with the profile's path and N fixed to 3 (RGB)."""
    return f"""%!
/ICCProfile {_ps_string(str(icc))} def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} <<
  /Type /OutputIntent
  /S /GTS_PDFA1
  /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB IEC61966-2.1)
  /Info (sRGB IEC61966-2.1)
  /RegistryName (http://www.color.org)
>> /PUT pdfmark
[{{Catalog}} <</OutputIntents [ {{OutputIntent_PDFA}} ]>> /PUT pdfmark
"""


def has_unembedded_cid_fonts(pdf: bytes) -> bool:
    """True if a page or form of ``pdf`` has a CID (Type0) font whose program is not in the file."""
    import pikepdf

    seen: set[tuple[int, int]] = set()

    def walk(resources: object) -> bool:
        if not isinstance(resources, pikepdf.Dictionary):
            return False
        if resources.is_indirect:
            if resources.objgen in seen:
                return False
            seen.add(resources.objgen)
        fonts = resources.get("/Font")
        for font in fonts.values() if isinstance(fonts, pikepdf.Dictionary) else []:
            if font.get("/Subtype") != "/Type0":
                continue
            descendants = font.get("/DescendantFonts")
            target = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else font
            descriptor = target.get("/FontDescriptor")
            if not isinstance(descriptor, pikepdf.Dictionary) or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                return True
        xobjects = resources.get("/XObject")
        for xobject in xobjects.values() if isinstance(xobjects, pikepdf.Dictionary) else []:
            if xobject.get("/Subtype") == "/Form" and walk(xobject.get("/Resources")):
                return True
        return False

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return any(walk(page.obj.get("/Resources")) for page in doc.pages)


def _convert(pdf: bytes) -> bytes:
    gs = shutil.which("gs")
    if gs is None:
        raise PdfaEngineMissing()
    icc = _icc_profile()
    with tempfile.TemporaryDirectory(prefix="madoguchi-pdfa-") as tmp:
        folder = Path(tmp)
        source, target, definition = folder / "in.pdf", folder / "out.pdf", folder / "pdfa_def.ps"
        source.write_bytes(pdf)
        definition.write_text(_definition(icc), encoding="ascii")
        cmd = [
            gs,
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-dNOOUTERSAVE",
            "-dPDFA=2",
            "-dPDFACompatibilityPolicy=1",
            "-sDEVICE=pdfwrite",
            "-sColorConversionStrategy=RGB",
            "-sProcessColorModel=DeviceRGB",
            "-dEmbedAllFonts=true",
            "-dSubsetFonts=true",
            "-dAutoRotatePages=/None",
            # Never re-compress a scan lossily (JPEGs pass through as they came; the rest: Flate).
            "-dPassThroughJPEGImages=true",
            "-dAutoFilterColorImages=false",
            "-dColorImageFilter=/FlateEncode",
            "-dAutoFilterGrayImages=false",
            "-dGrayImageFilter=/FlateEncode",
            "-dDownsampleColorImages=false",
            "-dDownsampleGrayImages=false",
            "-dDownsampleMonoImages=false",
            *(["-dNoOutputFonts"] if has_unembedded_cid_fonts(pdf) else []),
            f"--permit-file-read={icc}",
            f"-sOutputFile={target}",
            str(definition),
            str(source),
        ]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise InvalidInput(
                "PDF/A への変換に時間がかかりすぎました。ページを分けて登録してください。",
                code="attachment.pdfa",
            ) from None
        if result.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            raise InvalidInput(
                "この PDF は保存用の形式 (PDF/A) に変換できませんでした。印刷して読み取り直してください。",
                code="attachment.pdfa",
            )
        return target.read_bytes()


def _pdf_date(at: datetime) -> str:
    return at.strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp(info: ArchiveInfo, title: str, at: datetime) -> bytes:
    """The XMP packet: PDF/A-2b identification, Dublin Core, the madoguchi fields and their schema."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    values = {
        "LgCode": info.lg_code,
        "ReceptionId": info.reception_id,
        "ReceptionNumber": info.reception_number,
        "DocumentClass": info.document_class,
        "RetainUntil": info.retain_until.isoformat(),
    }
    props = "".join(f"<madoguchi:{k}>{escape(values[k])}</madoguchi:{k}>" for k in FIELDS)
    schema_props = "".join(
        "<rdf:li rdf:parseType='Resource'>"
        f"<pdfaProperty:name>{k}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(FIELD_DESCRIPTIONS[k])}</pdfaProperty:description>"
        "</rdf:li>"
        for k in FIELDS
    )
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate><xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>"
        "</rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Producer>{PRODUCER}</pdf:Producer></rdf:Description>"
        f'<rdf:Description rdf:about="" xmlns:madoguchi="{NS}">{props}</rdf:Description>'
        '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
        'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
        'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
        "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        "<pdfaSchema:schema>Madoguchi archive</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{NS}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>madoguchi</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{schema_props}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
        "</rdf:RDF></x:xmpmeta>" + " " * 2000 + '<?xpacket end="w"?>'
    ).encode("utf-8")


def to_pdfa(pdf: bytes, info: ArchiveInfo, *, now: datetime | None = None) -> bytes:
    """``pdf`` (already checked) as PDF/A-2b with the archive metadata."""
    import pikepdf

    converted = _convert(pdf)
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    title = f"受付 {info.reception_number}"
    with pikepdf.open(io.BytesIO(converted)) as doc:
        doc.Root.Metadata = doc.make_stream(
            xmp(info, title, at), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML
        )
        doc.docinfo = doc.make_indirect(
            pikepdf.Dictionary(
                Title=pikepdf.String(title),
                Producer=pikepdf.String(PRODUCER),
                Creator=pikepdf.String(PRODUCER),
                CreationDate=pikepdf.String(_pdf_date(at)),
                ModDate=pikepdf.String(_pdf_date(at)),
            )
        )
        out = io.BytesIO()
        doc.save(out, fix_metadata_version=False, deterministic_id=False)
    return out.getvalue()
