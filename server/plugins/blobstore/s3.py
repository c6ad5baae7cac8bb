"""S3-compatible object storage (AWS S3, MinIO, Ceph RGW …) through boto3.

Settings: ``s3_endpoint_url`` (empty for AWS), ``s3_bucket``, ``s3_region``, credentials from
``s3_access_key_id`` / ``s3_secret_access_key`` or boto3's usual chain. A single PUT is atomic on
S3, so ``put`` needs no temporary key. ``check()`` says whether the bucket is reachable. An
unreachable or refusing store raises :class:`BlobStoreUnavailable` (503, in Japanese), never a
"missing" answer: a network failure must not look like a deleted document.

Tested over HTTP against moto's S3 server (``tests/server/records/test_blobstores.py``), the same
contract tests as the filesystem store; a real MinIO/AWS bucket is the deployment's to check with
``madoguchi-server`` ``check()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from server.plugins.blobstore.base import BlobMissing, BlobStore, BlobStoreUnavailable, check_key, registry
from shared.plugins import CheckResult

if TYPE_CHECKING:
    from server.config import Settings


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


@registry.register
class S3BlobStore(BlobStore):
    plugin_id = "s3"
    label = "S3互換オブジェクトストレージ"

    def __init__(self, bucket: str, client: Any, prefix: str = "") -> None:
        self.bucket = bucket
        self.client = client
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        import boto3

        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=secret,
        )
        return cls(settings.s3_bucket, client, settings.s3_prefix)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes) -> None:
        name = self._key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data)
        except Exception as exc:
            raise BlobStoreUnavailable() from exc

    def get(self, key: str) -> bytes:
        name = self._key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
            return bytes(answer["Body"].read())
        except Exception as exc:
            if _not_found(exc):
                raise BlobMissing() from None
            raise BlobStoreUnavailable() from exc

    def delete(self, key: str) -> None:
        name = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            raise BlobStoreUnavailable() from exc

    def exists(self, key: str) -> bool:
        name = self._key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _not_found(exc):
                return False
            raise BlobStoreUnavailable() from exc
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"])[len(self.prefix) :]
        except BlobStoreUnavailable:
            raise
        except Exception as exc:
            raise BlobStoreUnavailable() from exc

    def check(self) -> CheckResult:
        if not self.bucket:
            return CheckResult(False, "S3のバケット名 (MADOGUCHI_S3_BUCKET) が設定されていません。")
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            return CheckResult(False, f"S3のバケット {self.bucket} に接続できません ({type(exc).__name__})。")
        return CheckResult(True, f"S3バケット: {self.bucket}")
