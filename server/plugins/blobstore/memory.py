"""In-memory blob store for tests and demos (lost when the process ends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from server.plugins.blobstore.base import BlobMissing, BlobStore, check_key, registry

if TYPE_CHECKING:
    from server.config import Settings


@registry.register
class MemoryBlobStore(BlobStore):
    plugin_id = "memory"
    label = "メモリ (テスト用)"
    is_fake = True

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> MemoryBlobStore:
        return cls()

    def put(self, key: str, data: bytes) -> None:
        self.blobs[check_key(key)] = bytes(data)

    def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobMissing() from None

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([k for k in self.blobs if k.startswith(prefix)])
