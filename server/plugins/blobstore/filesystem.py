"""Blobs as files under a folder (default ``<data_dir>/blobs``); writes are fsync'd and renamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from server.plugins.blobstore.base import BlobMissing, BlobStore, check_key, registry
from shared.plugins import CheckResult

if TYPE_CHECKING:
    from server.config import Settings


@registry.register
class FilesystemBlobStore(BlobStore):
    plugin_id = "filesystem"
    label = "ファイルシステム"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> FilesystemBlobStore:
        return cls(settings.blob_path)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing() from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def check(self) -> CheckResult:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".tmp-check"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return CheckResult(False, f"文書の保存先 {self.root} に書き込めません ({type(exc).__name__})。")
        return CheckResult(True, f"文書の保存先: {self.root}")
