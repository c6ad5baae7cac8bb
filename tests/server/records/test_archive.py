"""Archive: uploads checked by content, converted to PDF with XMP, SHA-256 verified on read-back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from tests.server.conftest import Api, count_rows
from tests.server.records import files
from tests.server.records.conftest import actions, make_reception


def _url(reception_id: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/receptions/{reception_id}/attachments" + (f"?{query}" if query else "")


def _blobs(api: Api) -> list[Path]:
    root = api.settings.blob_path
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_pdf_upload_is_archived_with_hash_and_xmp(api: Api) -> None:
    """A PDF is stored as PDF with XMP metadata; the DB hash matches the blob; reading verifies it."""
    from pypdf import PdfReader

    h = await api.headers()
    rec = await make_reception(api, h)
    r = await api.http.post(
        _url(rec["id"], document_class="power_of_attorney", filename="委任状.pdf"),
        content=files.pdf(2),
        headers=h,
    )
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["page_count"] == 2 and meta["source_media_type"] == "application/pdf"
    [blob] = _blobs(api)
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == meta["sha256"]
    got = await api.http.get(f"/api/v1/attachments/{meta['id']}/content", headers=h)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/pdf")
    assert hashlib.sha256(got.content).hexdigest() == meta["sha256"]
    reader = PdfReader(io.BytesIO(got.content))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert rec["reception_number"] in raw and "power_of_attorney" in raw and meta["retain_until"] in raw
    assert "attachment_create_success" in await actions(api)
    assert "attachment_read_success" in await actions(api)


@pytest.mark.parametrize(
    ("fmt", "frames", "media"),
    [("PNG", 1, "image/png"), ("JPEG", 1, "image/jpeg"), ("TIFF", 3, "image/tiff")],
)
async def test_images_become_pdf_pages(api: Api, fmt: str, frames: int, media: str) -> None:
    """Scans in PNG, JPEG and multi-page TIFF become one PDF page per frame."""
    h = await api.headers()
    rec = await make_reception(api, h)
    r = await api.http.post(
        _url(rec["id"], filename="scan.bin"), content=files.image(fmt, frames=frames), headers=h
    )
    assert r.status_code == 201, r.text
    assert r.json()["source_media_type"] == media and r.json()["page_count"] == frames


async def test_tampered_blob_is_refused_on_read(api: Api) -> None:
    """A blob changed on disk is not served: 500 attachment.integrity, audited as a failure."""
    h = await api.headers()
    rec = await make_reception(api, h)
    meta = (await api.http.post(_url(rec["id"]), content=files.pdf(), headers=h)).json()
    [blob] = _blobs(api)
    blob.write_bytes(blob.read_bytes() + b"%tampered")
    r = await api.http.get(f"/api/v1/attachments/{meta['id']}/content", headers=h)
    assert r.status_code == 500 and r.json()["code"] == "attachment.integrity"
    assert "改ざん" in r.json()["message"]
    assert "attachment_read_failure" in await actions(api)


HOSTILE = [
    ("exe_named_pdf", b"MZ\x90\x00" + b"\x00" * 200, "attachment.type", 422),
    ("html", b"<html><script>alert(1)</script></html>", "attachment.type", 422),
    ("empty", b"", "attachment.empty", 422),
    ("javascript_pdf", None, "attachment.pdf_script", 422),
    ("launch_pdf", None, "attachment.pdf_script", 422),
    ("encrypted_pdf", None, "attachment.pdf_encrypted", 422),
    ("truncated_pdf", None, "attachment.broken", 422),
    ("truncated_png", None, "attachment.broken", 422),
    ("png_bomb", None, "attachment.image_too_large", 422),
    ("too_many_pages", None, "attachment.too_many_pages", 422),
]


def _hostile(name: str, given: bytes | None) -> bytes:
    if given is not None:
        return given
    return {
        "javascript_pdf": lambda: files.pdf(javascript="app.alert('x');"),
        "launch_pdf": files.pdf_with_open_action_launch,
        "encrypted_pdf": files.encrypted_pdf,
        "truncated_pdf": lambda: b"%PDF-1.7\n1 0 obj <<",
        "truncated_png": lambda: files.image("PNG", (500, 500))[:120],
        "png_bomb": files.png_bomb,
        "too_many_pages": lambda: files.pdf(51),
    }[name]()


@pytest.mark.parametrize(("name", "data", "code", "status"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_upload_is_refused_and_nothing_stored(
    api: Api, name: str, data: bytes | None, code: str, status: int
) -> None:
    """Each hostile file gets its Japanese error and leaves no row and no blob; the refusal is audited."""
    h = await api.headers()
    rec = await make_reception(api, h)
    r = await api.http.post(_url(rec["id"], filename="safe.pdf"), content=_hostile(name, data), headers=h)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert any("\u3040" <= ch <= "\u30ff" for ch in body["message"])
    assert await count_rows(api.db, "attachments") == 0
    assert _blobs(api) == []
    assert "attachment_create_failure" in await actions(api)


async def test_size_limits_per_file_and_per_reception(make_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file over the per-file limit gets 413; the upload that would pass the reception's total too."""
    api = make_api(attachment_max_bytes=30_000, attachment_max_reception_bytes=15_000)
    try:
        h = await api.headers()
        rec = await make_reception(api, h)
        big = files.pdf(1) + b"%" + b"x" * 40_000
        r = await api.http.post(_url(rec["id"]), content=big, headers=h)
        assert r.status_code == 413 and r.json()["code"] == "attachment.too_large"
        first = await api.http.post(_url(rec["id"]), content=files.pdf(1), headers=h)
        assert first.status_code == 201, first.text
        second = await api.http.post(_url(rec["id"]), content=files.pdf(10), headers=h)
        assert second.status_code == 413 and second.json()["code"] == "attachment.reception_too_large"
        assert await count_rows(api.db, "attachments") == 1
        assert len(_blobs(api)) == 1
    finally:
        await api.close()


async def test_upload_needs_permission_and_own_municipality_reception(api: Api) -> None:
    """Without a token 401; an unknown reception 404 with a Japanese message."""
    r = await api.http.post(_url("00000000-0000-0000-0000-000000000000"), content=files.pdf())
    assert r.status_code == 401
    h = await api.headers()
    r = await api.http.post(_url("00000000-0000-0000-0000-000000000000"), content=files.pdf(), headers=h)
    assert r.status_code == 404 and r.json()["code"] == "reception.not_found"


def test_memory_and_filesystem_stores_share_the_contract(tmp_path: Path) -> None:
    """put/get/delete/keys behave alike; unsafe keys are refused; deleting twice is fine."""
    from server.plugins.blobstore import BlobMissing
    from server.plugins.blobstore.filesystem import FilesystemBlobStore
    from server.plugins.blobstore.memory import MemoryBlobStore

    for store in (FilesystemBlobStore(tmp_path / "b"), MemoryBlobStore()):
        store.put("082104/a/b.pdf", b"one")
        assert store.get("082104/a/b.pdf") == b"one" and store.exists("082104/a/b.pdf")
        assert list(store.keys("082104/")) == ["082104/a/b.pdf"]
        store.delete("082104/a/b.pdf")
        store.delete("082104/a/b.pdf")
        with pytest.raises(BlobMissing):
            store.get("082104/a/b.pdf")
        with pytest.raises(ValueError):
            store.put("../escape", b"x")
    assert FilesystemBlobStore(tmp_path / "c").check().ok


async def test_upload_with_client_key_is_stored_once(api: Api) -> None:
    """The outbox resends with the same client_key: the same document comes back, one blob, one row;
    the key reused on another reception is a conflict."""
    import uuid

    h = await api.headers()
    rec = await make_reception(api, h)
    key = str(uuid.uuid4())
    first = await api.http.post(_url(rec["id"], client_key=key), content=files.image("PNG"), headers=h)
    again = await api.http.post(_url(rec["id"], client_key=key), content=files.image("PNG"), headers=h)
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert await count_rows(api.db, "attachments") == 1 and len(_blobs(api)) == 1
    other = await make_reception(api, h)
    clash = await api.http.post(_url(other["id"], client_key=key), content=files.image("PNG"), headers=h)
    assert clash.status_code == 409 and clash.json()["code"] == "attachment.client_key_conflict"
    fresh = await api.http.post(_url(rec["id"]), content=files.image("PNG"), headers=h)
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert await count_rows(api.db, "attachments") == 2
