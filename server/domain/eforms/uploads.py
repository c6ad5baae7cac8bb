"""Attachment checks before anything is stored: type by content, per-file and aggregate size.

The browser's file name and Content-Type are not believed: the first bytes decide the type, and
the extension must both be allowed by the procedure and agree with the content.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidInput, PayloadTooLarge
from shared.schemas.eform import AGGREGATE_MB, Uploads

MB = 1024 * 1024

#: Content type by leading bytes, and the extensions that may carry it.
_SIGNATURES: tuple[tuple[bytes, str, frozenset[str]], ...] = (
    (b"%PDF-", "application/pdf", frozenset({"pdf"})),
    (b"\x89PNG\r\n\x1a\n", "image/png", frozenset({"png"})),
    (b"\xff\xd8\xff", "image/jpeg", frozenset({"jpg", "jpeg"})),
    (b"GIF87a", "image/gif", frozenset({"gif"})),
    (b"GIF89a", "image/gif", frozenset({"gif"})),
)


def sniff(head: bytes) -> tuple[str, frozenset[str]] | None:
    """(content type, extensions) of a file from its first bytes, or None if unknown."""
    for magic, content_type, extensions in _SIGNATURES:
        if head.startswith(magic):
            return content_type, extensions
    return None


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


def safe_name(filename: str) -> str:
    """The last path part, without control characters, at most 200 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-200:] or "file"


def check_file(filename: str, data: bytes, rules: Uploads, already_stored: int) -> CheckedFile:
    """Accept ``data`` or raise: wrong extension, mislabelled content, too large, over the total."""
    name = safe_name(filename)
    ext = extension(name)
    allowed = {e.lower().lstrip(".") for e in rules.extensions}
    if ext not in allowed:
        raise InvalidInput(
            f"添付できるファイルの種類は {', '.join(sorted(allowed))} です。", code="eform.file_extension"
        )
    if len(data) > rules.max_file_mb * MB:
        raise PayloadTooLarge(
            f"ファイルが大きすぎます。1ファイル{rules.max_file_mb}MBまでです。", code="eform.file_too_large"
        )
    if already_stored + len(data) > AGGREGATE_MB * MB:
        raise PayloadTooLarge(
            f"添付ファイルの合計が{AGGREGATE_MB}MBを超えます。", code="eform.files_total_too_large"
        )
    found = sniff(data[:16])
    if found is None or ext not in found[1]:
        raise InvalidInput(
            "ファイルの内容が拡張子と一致しません。正しいファイルを添付してください。",
            code="eform.file_content",
        )
    return CheckedFile(name, found[0], data)
