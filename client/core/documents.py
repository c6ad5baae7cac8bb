"""Documents of the current reception (保存用の読み取り), Qt-free.

Besides the forms the OCR reads, the clerk scans what only has to be kept: 委任状, 本人確認書類,
a letter in a format no template knows. :class:`ReceptionDocuments` holds them for the reception
on screen — on disk, so a client killed before 送信 offers them again — and
:func:`submit_with_documents` queues the validated notice together with its printed forms (PDF,
rendered by :mod:`client.core.print.service`) and these documents in one outbox transaction.
Several scanned pages of one document become one multi-page TIFF (the server archives one PDF
page per frame).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from client.devices.scanners.base import ScannedPage, Scanner
from shared.api_records import DOCUMENT_CLASS_LABELS, DocumentClass
from shared.errors import InvalidInput, MadoguchiError
from shared.models.movement_notice import MovementNotice

from .files import write_bytes_atomic
from .outbox import Outbox, OutboxItem, OutgoingDocument
from .print.service import PrintedForm, render_forms
from .reception import submit_reception

log = logging.getLogger(__name__)

#: What the clerk can choose for a document scanned for storage (the printed forms are automatic).
STORAGE_CLASSES: list[DocumentClass] = [
    DocumentClass.power_of_attorney,
    DocumentClass.identity_document,
    DocumentClass.scan,
    DocumentClass.other,
]

_MAGIC: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"II*\x00", "image/tiff", ".tif"),
    (b"MM\x00*", "image/tiff", ".tif"),
]


def media_type_of(data: bytes) -> tuple[str, str] | None:
    """``(media type, extension)`` from the first bytes (the server decides the same way)."""
    for magic, media, ext in _MAGIC:
        if data.startswith(magic):
            return media, ext
    return None


def _unsupported(name: str) -> InvalidInput:
    return InvalidInput(
        f"「{name}」は保存できない形式です。PDF・JPEG・PNG・TIFF のいずれかにしてください。",
        code="document.type",
    )


def combine_pages(pages: Sequence[ScannedPage]) -> tuple[bytes, str, int]:
    """One document from scanned pages: ``(bytes, media type, page count)``.

    One page is kept as scanned; several become one multi-page TIFF (lossless).
    """
    if not pages:
        raise InvalidInput("読み取った画像がありません。原稿を置いてからもう一度読み取ってください。")
    if len(pages) == 1:
        data = pages[0].path.read_bytes()
        found = media_type_of(data)
        if found is None:
            raise _unsupported(pages[0].path.name)
        return data, found[0], 1
    from PIL import Image, UnidentifiedImageError

    frames = []
    for page in pages:
        try:
            with Image.open(page.path) as image:
                image.load()
                frames.append(image.convert("L") if image.mode not in ("1", "L", "RGB") else image.copy())
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidInput(
                f"読み取った画像「{page.path.name}」を開けません。もう一度読み取ってください。",
                code="document.broken",
            ) from exc
    out = io.BytesIO()
    dpi = pages[0].dpi or 300
    frames[0].save(
        out, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate", dpi=(dpi, dpi)
    )
    return out.getvalue(), "image/tiff", len(frames)


@dataclass(frozen=True)
class PendingDocument:
    """One document waiting to go with the current reception."""

    id: str
    document_class: str
    filename: str
    media_type: str
    pages: int
    size: int
    added_at: str  # local time to the microsecond: the order documents were added

    @property
    def class_label(self) -> str:
        return DOCUMENT_CLASS_LABELS.get(DocumentClass(self.document_class), self.document_class)


class ReceptionDocuments:
    """The documents added to the reception on screen, kept in ``folder`` until it is submitted.

    Each document is ``<id>.bin`` (its bytes) and ``<id>.json`` (class, name, pages), written to a
    temporary name, fsynced and renamed, the JSON last: a document is there once its JSON is.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob("*.part"):
            leftover.unlink(missing_ok=True)

    # -- adding ------------------------------------------------------------------------------

    def _write(self, path: Path, data: bytes) -> None:
        write_bytes_atomic(path, data)

    def add_bytes(
        self, data: bytes, document_class: DocumentClass | str, filename: str, pages: int = 1
    ) -> PendingDocument:
        """Keep ``data`` for the reception (refused if empty or not PDF/JPEG/PNG/TIFF)."""
        if not data:
            raise InvalidInput(f"「{filename}」は空のファイルです。", code="document.empty")
        found = media_type_of(data)
        if found is None:
            raise _unsupported(filename)
        doc = PendingDocument(
            id=uuid.uuid4().hex,
            document_class=DocumentClass(document_class).value,
            filename=filename,
            media_type=found[0],
            pages=pages,
            size=len(data),
            added_at=datetime.now().isoformat(timespec="microseconds"),
        )
        self._write(self.folder / f"{doc.id}.bin", data)
        self._write(self.folder / f"{doc.id}.json", json.dumps(asdict(doc), ensure_ascii=False).encode())
        return doc

    def add_file(self, path: Path | str, document_class: DocumentClass | str) -> PendingDocument:
        """A file chosen by the clerk (a PDF from the network scanner, a photo …)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"「{path.name}」を読み込めません。", code="document.unreadable") from exc
        return self.add_bytes(data, document_class, path.name)

    def add_scan(
        self, scanner: Scanner, document_class: DocumentClass | str, name: str | None = None
    ) -> PendingDocument:
        """Scan every page in the feeder (or on the glass) as one document of ``document_class``."""
        data, media_type, count = combine_pages(scanner.scan())
        label = DOCUMENT_CLASS_LABELS.get(DocumentClass(document_class), "書類")
        ext = {"image/tiff": ".tif", "image/png": ".png", "image/jpeg": ".jpg"}.get(media_type, ".pdf")
        filename = name or f"{label}_{datetime.now():%Y%m%d_%H%M%S}{ext}"
        return self.add_bytes(data, document_class, filename, count)

    # -- changing ----------------------------------------------------------------------------

    def remove(self, doc_id: str) -> None:
        (self.folder / f"{doc_id}.json").unlink(missing_ok=True)
        (self.folder / f"{doc_id}.bin").unlink(missing_ok=True)

    def set_class(self, doc_id: str, document_class: DocumentClass | str) -> PendingDocument:
        doc = self.get(doc_id)
        updated = PendingDocument(**{**asdict(doc), "document_class": DocumentClass(document_class).value})
        self._write(self.folder / f"{doc_id}.json", json.dumps(asdict(updated), ensure_ascii=False).encode())
        return updated

    def clear(self, ids: Sequence[str] | None = None) -> None:
        """Forget ``ids`` (default: all), e.g. once they are safely in the outbox."""
        for doc in self.all():
            if ids is None or doc.id in ids:
                self.remove(doc.id)

    # -- reading -----------------------------------------------------------------------------

    def get(self, doc_id: str) -> PendingDocument:
        try:
            return PendingDocument(**json.loads((self.folder / f"{doc_id}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidInput("この書類は見つかりません。", code="document.not_found") from exc

    def all(self) -> list[PendingDocument]:
        """The documents in the order they were added (unreadable leftovers are skipped)."""
        docs = []
        for meta in self.folder.glob("*.json"):
            try:
                doc = PendingDocument(**json.loads(meta.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue
            if (self.folder / f"{doc.id}.bin").is_file():
                docs.append(doc)
        return sorted(docs, key=lambda d: (d.added_at, d.id))

    def data(self, doc_id: str) -> bytes:
        return (self.folder / f"{doc_id}.bin").read_bytes()

    def outgoing(self) -> list[tuple[str, OutgoingDocument]]:
        """``(id, document)`` for every document, ready for the outbox."""
        return [(d.id, OutgoingDocument(d.document_class, d.filename, self.data(d.id))) for d in self.all()]


def printed_documents(forms: Sequence[PrintedForm]) -> list[OutgoingDocument]:
    """The printed forms (異動届 and the others) as documents of class ``notice_form``."""
    return [OutgoingDocument(DocumentClass.notice_form.value, f"{f.label}.pdf", f.pdf) for f in forms]


@dataclass(frozen=True)
class Submitted:
    """The queued submission, and a Japanese warning if its forms could not be rendered."""

    item: OutboxItem
    warning: str | None = None


def submit_with_documents(
    outbox: Outbox,
    notice: MovementNotice,
    *,
    terminal_id: str | None,
    opened_at: datetime | None = None,
    documents: ReceptionDocuments | None = None,
    render: Callable[[MovementNotice], list[PrintedForm]] = render_forms,
    client_key: uuid.UUID | None = None,
) -> Submitted:
    """Queue the notice with its printed forms and the documents added for storage (one
    transaction), then forget those documents from the reception on screen.

    A form that cannot be rendered does not stop the reception: it is queued without the forms
    and the warning says so (the clerk can print and scan them later).
    """
    pending = documents.outgoing() if documents is not None else []
    warning = None
    try:
        forms = printed_documents(render(notice))
    except Exception as exc:
        log.exception("forms of the reception could not be rendered")
        message = exc.message if isinstance(exc, MadoguchiError) else type(exc).__name__
        warning = f"帳票のPDFを作成できなかったため、帳票なしで送信します（{message}）。"
        forms = []
    attached = forms + [doc for _, doc in pending]
    item = submit_reception(
        outbox,
        notice,
        terminal_id=terminal_id,
        opened_at=opened_at,
        client_key=client_key,
        documents=attached,
    )
    if documents is not None:
        documents.clear([doc_id for doc_id, _ in pending])
    return Submitted(item, warning)
