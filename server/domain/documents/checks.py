"""Upload checks and conversion to the archive PDF, before anything is stored.

The story of one upload (:func:`inspect_upload`):

1. size: empty or larger than ``attachment_max_bytes`` → refused;
2. type from the first bytes (PDF, JPEG, PNG, TIFF), never from the file name;
3. PDF: not encrypted, at most ``attachment_max_pages`` pages, no JavaScript / Launch / form
   submission anywhere in the object graph;
4. image: every frame's width × height at most ``attachment_max_pixels`` *before* decoding
   (decompression bombs), frames ≤ max pages, then decoded completely (a truncated file fails);
5. the archive PDF: images become one PDF page per frame, PDFs are rewritten; both are converted
   to PDF/A-2b (:mod:`.pdfa`: fonts embedded, sRGB OutputIntent, XMP with ``pdfaid`` and the
   reception, document class and retention date).

Every refusal is an :class:`~shared.errors.InvalidInput` or :class:`~shared.errors.PayloadTooLarge`
with a stable code and a Japanese message saying what to do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.errors import InvalidInput, PayloadTooLarge

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
]

#: PDF names that run code or reach outside the document.
_DANGEROUS_KEYS = {
    "/JS",
    "/JavaScript",
    "/Launch",
    "/RichMedia",
    "/SubmitForm",
    "/ImportData",
    "/EmbeddedFiles",
}
_DANGEROUS_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/RichMediaExecute",
    "/Rendition",
}
#: Objects visited at most while looking for scripts (a PDF with more is refused as too complex).
_MAX_OBJECTS = 200_000


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int
    max_pixels: int


@dataclass(frozen=True)
class ArchiveInfo:
    """What goes into the archive PDF's metadata."""

    reception_id: str
    reception_number: str
    document_class: str
    retain_until: date
    lg_code: str


@dataclass(frozen=True)
class Inspected:
    media_type: str
    page_count: int
    pdf: bytes


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g}"


def detect_type(data: bytes) -> str | None:
    """The media type of ``data`` by its first bytes, or None if it is none we accept."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    # Some scanners write a few bytes of garbage before %PDF- (the PDF spec allows 1024).
    if b"%PDF-" in data[:1024]:
        return PDF
    return None


def _broken() -> InvalidInput:
    return InvalidInput(
        "ファイルが壊れているため読み取れません。元のファイルを確認して送り直してください。",
        code="attachment.broken",
    )


def _too_many_pages(pages: int, limit: int) -> InvalidInput:
    return InvalidInput(
        f"ページ数が多すぎます ({pages} ページ、上限 {limit} ページ)。分けて登録してください。",
        code="attachment.too_many_pages",
    )


def _pdf_has_script(reader: Any) -> bool:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    stack: list[Any] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > _MAX_OBJECTS:
            raise InvalidInput(
                "PDF の構造が複雑すぎるため確認できません。印刷して読み取り直してください。",
                code="attachment.pdf_too_complex",
            )
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in _DANGEROUS_KEYS:
                    return True
                if key == "/S" and value in _DANGEROUS_ACTIONS:
                    return True
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False


def _check_pdf(data: bytes, limits: Limits) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput(
                "暗号化・パスワード付きの PDF は受け付けられません。保護を解除したものを送ってください。",
                code="attachment.pdf_encrypted",
            )
        pages = len(reader.pages)
    except InvalidInput:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise _broken() from None
    if pages == 0:
        raise _broken()
    if pages > limits.max_pages:
        raise _too_many_pages(pages, limits.max_pages)
    try:
        scripted = _pdf_has_script(reader)
    except InvalidInput:
        raise
    except Exception:
        raise _broken() from None
    if scripted:
        raise InvalidInput(
            "スクリプト (JavaScript など) や外部への動作を含む PDF は受け付けられません。"
            "印刷して読み取り直すか、スクリプトのない PDF にしてください。",
            code="attachment.pdf_script",
        )
    return reader


def _image_frames(data: bytes, limits: Limits) -> list[Any]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    bomb = InvalidInput(
        "画像の画素数が大きすぎます (圧縮爆弾の疑い)。解像度を下げて読み取り直してください。",
        code="attachment.image_too_large",
    )
    try:
        image = Image.open(io.BytesIO(data))
        frames: list[Any] = []
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= limits.max_pages:
                raise _too_many_pages(index + 1, limits.max_pages)
            width, height = frame.size
            if width * height > limits.max_pixels or width <= 0 or height <= 0:
                raise bomb
            frame.load()
            frames.append(frame.convert("L" if frame.mode in ("1", "L", "I;16") else "RGB"))
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise bomb from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise _broken() from None
    if not frames:
        raise _broken()
    return frames


def _archive_pdf(source: Any, info: ArchiveInfo) -> bytes:
    """The checked PDF rewritten by pypdf (a clean object graph), then converted to PDF/A-2b."""
    from pypdf import PdfWriter

    from server.domain.documents.pdfa import to_pdfa

    writer = PdfWriter(clone_from=source)
    out = io.BytesIO()
    writer.write(out)
    return to_pdfa(out.getvalue(), info)


def inspect_upload(data: bytes, limits: Limits, info: ArchiveInfo) -> Inspected:
    """Check ``data`` and return the archive PDF, or raise with a Japanese message."""
    if not data:
        raise InvalidInput("ファイルが空です。", code="attachment.empty")
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(
            f"ファイルが大きすぎます (上限 {_mb(limits.max_bytes)} MB)。"
            "解像度を下げるか分けて登録してください。",
            code="attachment.too_large",
        )
    media_type = detect_type(data)
    if media_type is None:
        raise InvalidInput(
            "対応していないファイル形式です。PDF・JPEG・PNG・TIFF のいずれかを送ってください"
            " (ファイル名ではなく内容で判定しています)。",
            code="attachment.type",
        )
    if media_type == PDF:
        reader = _check_pdf(data, limits)
        pdf = _archive_pdf(reader, info)
        return Inspected(media_type, len(reader.pages), pdf)
    frames = _image_frames(data, limits)
    buffer = io.BytesIO()
    frames[0].save(buffer, "PDF", save_all=True, append_images=frames[1:], resolution=300.0)
    from pypdf import PdfReader

    pdf = _archive_pdf(PdfReader(io.BytesIO(buffer.getvalue())), info)
    return Inspected(media_type, len(frames), pdf)
