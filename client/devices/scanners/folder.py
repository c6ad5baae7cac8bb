"""A network scanner that drops its files into a folder (Scan to folder / SMB / FTP).

Settings: ``folder`` (where the scanner writes), ``processed_dir`` (default ``<folder>/取込済``),
``rejected_dir`` (default ``<folder>/取込不可``), ``settle_seconds`` (a file counts as complete when
its size and time have not changed for this long *and* it decodes to the end; default 2),
``timeout_seconds`` (how long :meth:`FolderScanner.scan` waits for a file; default 60),
``broken_after_seconds`` (a file that stopped growing but still does not decode after this long
is refused as broken; default 30), ``poll_seconds`` (default 0.2).

:meth:`FolderScanner.scan` waits until at least one complete file is there, takes every complete
file (name order: scanners number their pages), moves each to ``processed_dir`` and returns the
moved paths. Files that are not JPEG/PNG/TIFF images, or that are still broken long after they
stopped growing, go to ``rejected_dir``; their Japanese reasons are in :attr:`last_rejected` and,
if nothing usable came, in the error raised. Hidden and temporary names (``.x``, ``~x``, ``*.tmp``,
``*.part``) are never touched: scanners write under such names and rename at the end.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import DeviceError, InvalidInput
from shared.plugins import CheckResult

from .base import ScannedPage, Scanner
from .registry import registry

_MAGIC: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]
_TEMP_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial")


@dataclass(frozen=True)
class Rejected:
    """A file the folder scanner did not take, where it went, and why (Japanese)."""

    name: str
    moved_to: Path
    reason: str


def _media_type(head: bytes) -> str | None:
    for magic, media in _MAGIC:
        if head.startswith(magic):
            return media
    return None


def _decodes(path: Path) -> bool:
    from PIL import Image, ImageSequence

    try:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                frame.load()
        return True
    except Exception:
        return False


def _unique(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = target.stem, target.suffix
    n = 1
    while target.exists():
        target = folder / f"{stem}_{n}{suffix}"
        n += 1
    return target


@registry.register
class FolderScanner(Scanner):
    """Takes the page images a network scanner puts in a shared folder."""

    plugin_id = "folder"
    label = "ネットワークスキャナー（共有フォルダー）"

    def __init__(
        self,
        folder: str | Path | None = None,
        processed_dir: str | Path | None = None,
        rejected_dir: str | Path | None = None,
        settle_seconds: float = 2.0,
        timeout_seconds: float = 60.0,
        broken_after_seconds: float = 30.0,
        poll_seconds: float = 0.2,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.folder = Path(folder).expanduser() if folder else None
        base = self.folder or Path(".")
        self.processed_dir = Path(processed_dir).expanduser() if processed_dir else base / "取込済"
        self.rejected_dir = Path(rejected_dir).expanduser() if rejected_dir else base / "取込不可"
        self.settle_seconds = float(settle_seconds)
        self.timeout_seconds = float(timeout_seconds)
        self.broken_after_seconds = float(broken_after_seconds)
        self.poll_seconds = float(poll_seconds)
        self.last_rejected: list[Rejected] = []

    def _require_folder(self) -> Path:
        if self.folder is None:
            raise DeviceError(
                "スキャナーの保存先フォルダーが設定されていません。端末の設定を確認してください。",
                code="scanner.folder_unset",
            )
        if not self.folder.is_dir():
            raise DeviceError(
                f"スキャナーの保存先フォルダー「{self.folder}」が見つかりません。"
                "共有フォルダーの接続を確認してください。",
                code="scanner.folder_missing",
            )
        return self.folder

    def _candidates(self, folder: Path) -> list[Path]:
        out = []
        for entry in folder.iterdir():
            name = entry.name
            if not entry.is_file() or name.startswith((".", "~")) or name.lower().endswith(_TEMP_SUFFIXES):
                continue
            out.append(entry)
        return sorted(out, key=lambda p: p.name)

    def _reject(self, path: Path, reason: str) -> None:
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        target = _unique(self.rejected_dir, path.name)
        shutil.move(str(path), str(target))
        self.last_rejected.append(Rejected(path.name, target, reason))

    def scan(self) -> list[ScannedPage]:
        """Wait for the scanner's files, take the complete ones, refuse the rest with a reason."""
        folder = self._require_folder()
        self.last_rejected = []
        seen: dict[Path, tuple[int, int, float]] = {}  # path → (size, mtime_ns, stable since)
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            now = time.monotonic()
            ready: list[tuple[Path, str]] = []
            for path in self._candidates(folder):
                try:
                    st = path.stat()
                except OSError:
                    continue  # moved away meanwhile
                key = (st.st_size, st.st_mtime_ns)
                previous = seen.get(path)
                if previous is None or previous[:2] != key:
                    seen[path] = (*key, now)
                    continue
                stable_for = now - previous[2]
                if stable_for < self.settle_seconds or st.st_size == 0:
                    continue
                with open(path, "rb") as fh:
                    media = _media_type(fh.read(16))
                if media is None:
                    self._reject(
                        path,
                        f"「{path.name}」は画像ではないため取り込めません (JPEG・PNG・TIFF のみ)。"
                        "スキャナーの保存形式を確認してください。",
                    )
                    continue
                if _decodes(path):
                    ready.append((path, media))
                elif stable_for >= self.broken_after_seconds:
                    self._reject(
                        path, f"「{path.name}」は壊れているため取り込めません。読み取り直してください。"
                    )
            if ready:
                return self._take(ready)
            if now >= deadline:
                break
            time.sleep(self.poll_seconds)
        if self.last_rejected:
            raise InvalidInput(" ".join(r.reason for r in self.last_rejected), code="scanner.folder_rejected")
        raise DeviceError(
            f"{self.timeout_seconds:g} 秒待ちましたが、スキャナーから読み取った書類が届きません。"
            "スキャナーの送信先がこのフォルダーになっているか確認してください。",
            code="scanner.folder_timeout",
        )

    def _take(self, ready: list[tuple[Path, str]]) -> list[ScannedPage]:
        self.processed_dir.mkdir(parents=True, exist_ok=True)
        pages = []
        for path, media in ready:
            target = _unique(self.processed_dir, path.name)
            shutil.move(str(path), str(target))
            pages.append(ScannedPage(target, media))
        return pages

    def check(self) -> CheckResult:
        try:
            folder = self._require_folder()
        except DeviceError as exc:
            return CheckResult(False, exc.message)
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            return CheckResult(False, f"フォルダー「{folder}」に読み書きする権限がありません。")
        waiting = len(self._candidates(folder))
        return CheckResult(
            True,
            f"フォルダー「{folder}」を監視します（取り込み待ち {waiting} 件）。",
            {"folder": str(folder), "processed_dir": str(self.processed_dir)},
        )
