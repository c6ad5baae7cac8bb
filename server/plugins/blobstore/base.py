"""The blob-store contract and its registry (one family of :class:`shared.plugins.Registry`).

Keys are relative POSIX paths made of ``[A-Za-z0-9._/-]`` (``<lg_code>/<reception>/<id>.pdf``);
a store never interprets them. ``put`` is atomic: a reader sees the whole blob or none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from shared.errors import MadoguchiError, ServiceUnavailable
from shared.plugins import Plugin, Registry

if TYPE_CHECKING:
    from server.config import Settings

_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")


class BlobMissing(MadoguchiError):
    code = "blob.missing"
    http_status = 500
    default_message = "保存された文書が見つかりません。管理者に連絡してください。"


class BlobStoreUnavailable(ServiceUnavailable):
    """The store did not answer or refused (network, credentials, bucket): not the same as missing."""

    code = "blobstore.unavailable"
    default_message = "文書の保存先に接続できません。しばらくしてからもう一度お試しください。"


def check_key(key: str) -> str:
    """``key`` if it is a safe relative path (no ``..``, no leading slash), else ValueError."""
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class BlobStore(Plugin):
    """Bytes under keys. Implementations: ``filesystem``, ``s3``, ``memory`` (fake)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> BlobStore:
        """The store configured by ``settings``."""
        raise NotImplementedError

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (replacing an existing blob)."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`BlobMissing` if there are none."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error (purge re-runs)."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, in no particular order."""
        raise NotImplementedError


registry: Registry[BlobStore] = Registry(
    "blobstore",
    modules=[
        "server.plugins.blobstore.filesystem",
        "server.plugins.blobstore.memory",
        "server.plugins.blobstore.s3",
    ],
)


def open_store(settings: Settings) -> BlobStore:
    """The store named by ``settings.blob_store``, built from its settings."""
    return registry.get(settings.blob_store).from_settings(settings)
