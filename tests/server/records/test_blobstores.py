"""The blob-store contract, run against every implementation: filesystem, memory and S3.

S3 is exercised over real HTTP through boto3 against moto's S3 server on localhost (no S3
service is reachable from here); the archive route is then run end to end on that store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from server.plugins.blobstore.base import BlobMissing, BlobStore, BlobStoreUnavailable, open_store
from server.plugins.blobstore.filesystem import FilesystemBlobStore
from server.plugins.blobstore.memory import MemoryBlobStore
from server.plugins.blobstore.s3 import S3BlobStore
from tests.conftest import free_port
from tests.server.conftest import Api, sqlite_settings
from tests.server.records import files
from tests.server.records.conftest import make_reception

BUCKET = "madoguchi-archive"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free local port, with one bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    _client(url).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    try:
        yield url
    finally:
        server.stop()


def _client(url: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="ap-northeast-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(params=["filesystem", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "blobs")
    if request.param == "memory":
        return MemoryBlobStore()
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3BlobStore(BUCKET, _client(endpoint), prefix=f"t-{tmp_path.name}")


def test_put_get_exists_keys_delete(store: BlobStore) -> None:
    """What is put comes back byte for byte, is listed under its prefix, and is gone after delete."""
    data = bytes(range(256)) * 40
    store.put("082104/2026/a.pdf", data)
    store.put("082104/2026/b.pdf", b"%PDF-1.7 b")
    store.put("999999/other.pdf", b"other")
    assert store.get("082104/2026/a.pdf") == data
    assert store.exists("082104/2026/a.pdf") and not store.exists("082104/2026/none.pdf")
    assert sorted(store.keys("082104/")) == ["082104/2026/a.pdf", "082104/2026/b.pdf"]
    store.put("082104/2026/a.pdf", b"replaced")
    assert store.get("082104/2026/a.pdf") == b"replaced"
    store.delete("082104/2026/a.pdf")
    assert not store.exists("082104/2026/a.pdf")
    with pytest.raises(BlobMissing):
        store.get("082104/2026/a.pdf")
    assert store.check().ok


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", ""])
def test_hostile_keys_are_refused(store: BlobStore, key: str) -> None:
    """Keys that would leave the store's root are refused before any I/O."""
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(key, b"x")


def test_unreachable_s3_is_unavailable_not_missing() -> None:
    """A store that does not answer raises the 503 error in Japanese, never 'missing' or 'absent'."""
    dead = f"http://127.0.0.1:{free_port()}"
    client = boto3.client(
        "s3",
        endpoint_url=dead,
        region_name="ap-northeast-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )
    store = S3BlobStore(BUCKET, client)
    for call in (lambda: store.get("a.pdf"), lambda: store.exists("a.pdf"), lambda: list(store.keys())):
        with pytest.raises(BlobStoreUnavailable) as info:
            call()
        assert info.value.http_status == 503 and "接続できません" in info.value.message
    result = store.check()
    assert not result.ok and BUCKET in result.message


async def test_archive_round_trip_on_s3(s3_endpoint: str, data_dir: Path) -> None:
    """With MADOGUCHI_BLOB_STORE=s3 an attachment is archived in the bucket and read back verified."""
    settings = sqlite_settings(
        data_dir,
        blob_store="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=BUCKET,
        s3_region="ap-northeast-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_prefix="archive",
    )
    api = Api(settings)
    try:
        h = await api.headers()
        rec = await make_reception(api, h)
        r = await api.http.post(
            f"/api/v1/receptions/{rec['id']}/attachments?filename=scan.pdf", content=files.pdf(1), headers=h
        )
        assert r.status_code == 201, r.text
        meta = r.json()
        objects = _client(s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix="archive/")["Contents"]
        assert len(objects) == 1
        body = _client(s3_endpoint).get_object(Bucket=BUCKET, Key=objects[0]["Key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == meta["sha256"]
        got = await api.http.get(f"/api/v1/attachments/{meta['id']}/content", headers=h)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == meta["sha256"]
        assert open_store(settings).check().ok
    finally:
        await api.close()
