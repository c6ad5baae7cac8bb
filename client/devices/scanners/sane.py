"""SANE scanners (Linux) through ``python-sane``: USB and network scanners with a SANE backend.

Settings (station profile ``settings.scanner``):

- ``device``: SANE device name (``scanimage -L``), e.g. ``epjitsu:libusb:001:004``; empty = the
  first device found;
- ``resolution``: dpi (default 300), ``mode``: ``Gray`` (default), ``Color`` or ``Lineart``;
- ``source``: the device's source option, e.g. ``ADF Duplex`` or ``Automatic Document Feeder``;
  a source naming a feeder (ADF / Feeder) scans every sheet until the feeder is empty;
- ``options``: any other SANE options by name (``{"page-height": 297}``; the ``pnm`` test backend
  takes ``{"filename": "/path/page.pnm"}``);
- ``output_dir``: where the page images are written (default: a temporary folder).

Every SANE status becomes a :class:`~shared.errors.DeviceError` with a Japanese message saying what
to do (paper jam, cover open, feeder empty, busy, no device). libsane's status strings are English
and untranslated (``sane_strstatus``), so they are matched as such.

libsane's thread helper (``sanei_thread``, built into the ``test``, ``pixma``, ``avision``,
``plustek``, ``snapscan``, ``hp`` … backends) puts SIGPIPE back to "terminate the process" when a
scan ends, whatever it was before: it assumes it ignored SIGPIPE itself. Python ignores SIGPIPE, so
that a write to a socket the other side closed raises ``BrokenPipeError``; after libsane's reset the
same write kills the whole process (the terminal and its outbox). Every scan and check puts the
disposition back (:func:`keep_sigpipe_as_python_set_it`).
"""

from __future__ import annotations

import ctypes
import signal
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import ScannedPage, Scanner
from .registry import registry

#: libsane's sane_strstatus() text → (code, Japanese message).
STATUS_MESSAGES: dict[str, tuple[str, str]] = {
    "Document feeder jammed": (
        "scanner.jammed",
        "スキャナーで紙詰まりが起きました。詰まった紙を取り除き、原稿をセットし直してから読み取ってください。",
    ),
    "Scanner cover is open": (
        "scanner.cover_open",
        "スキャナーのカバーが開いています。カバーを閉じてから読み取ってください。",
    ),
    "Document feeder out of documents": (
        "scanner.no_documents",
        "原稿がセットされていません。原稿を給紙トレイに置いてから読み取ってください。",
    ),
    "Device busy": (
        "scanner.busy",
        "スキャナーは別の処理で使用中です。しばらく待ってからもう一度読み取ってください。",
    ),
    "Access to resource has been denied": (
        "scanner.denied",
        "スキャナーを使う権限がありません (端末の利用者が scanner グループにいるか確認してください)。",
    ),
    "Error during device I/O": (
        "scanner.io",
        "スキャナーとの通信に失敗しました。ケーブル・電源・ネットワークを確認してください。",
    ),
    "Out of memory": ("scanner.memory", "メモリ不足で読み取れませんでした。解像度を下げてください。"),
    "Operation was cancelled": ("scanner.cancelled", "読み取りが中止されました。"),
    "Invalid argument": (
        "scanner.invalid_option",
        "スキャナーの設定 (解像度・読み取り方法など) がこの機種に合いません。端末の設定を確認してください。",
    ),
}
_NO_MORE_PAGES = {"Document feeder out of documents", "End of file reached"}
_FEEDER_WORDS = ("adf", "feeder", "フィーダ")

#: libsane keeps global state: one scan at a time per process.
_lock = threading.Lock()


def keep_sigpipe_as_python_set_it() -> None:
    """Ignore SIGPIPE again if Python ignores it and a libsane backend reset it to the default.

    Called on the thread that scanned (a pool thread in the terminal), where ``signal.signal`` is
    refused, hence libc's ``signal()``. Python's own view (``signal.getsignal``) never saw libsane's
    change and is the disposition to restore; a Python handler or a deliberate ``SIG_DFL`` is left
    alone (libsane leaves a handler alone too)."""
    if not hasattr(signal, "SIGPIPE") or signal.getsignal(signal.SIGPIPE) != signal.SIG_IGN:
        return
    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal(int(signal.SIGPIPE), int(signal.SIG_IGN))


def _import_sane() -> Any:
    try:
        import sane
    except ImportError as exc:  # Windows, or libsane missing
        raise DeviceError(
            "SANE (python-sane) が使えません。Linux で libsane をインストールしてください。",
            code="scanner.sane_missing",
        ) from exc
    return sane


def device_error(exc: BaseException, device: str | None = None) -> DeviceError:
    """The Japanese :class:`DeviceError` for a python-sane error."""
    text = str(exc)
    code, message = STATUS_MESSAGES.get(
        text,
        ("scanner.failed", f"スキャナーで読み取れませんでした ({text})。電源と接続を確認してください。"),
    )
    if device and code == "scanner.io":
        message = f"{message} (機器: {device})"
    return DeviceError(message, code=code)


def _no_device(name: str | None) -> DeviceError:
    if name:
        return DeviceError(
            f"スキャナー「{name}」が見つかりません。電源・USB/ネットワークの接続と端末の設定を確認してください。",
            code="scanner.no_device",
        )
    return DeviceError(
        "スキャナーが見つかりません。電源と USB/ネットワークの接続を確認してください。",
        code="scanner.no_device",
    )


@registry.register
class SaneScanner(Scanner):
    """A scanner driven through SANE."""

    plugin_id = "sane"
    label = "SANE スキャナー (Linux)"

    def __init__(
        self,
        device: str | None = None,
        resolution: int = 300,
        mode: str = "Gray",
        source: str | None = None,
        options: dict[str, Any] | None = None,
        output_dir: str | Path | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.device = device or None
        self.resolution = int(resolution)
        self.mode = mode
        self.source = source
        self.options = dict(options or {})
        self.output_dir = Path(output_dir).expanduser() if output_dir else None

    # -- helpers -----------------------------------------------------------------------------

    def uses_feeder(self) -> bool:
        return bool(self.source) and any(w in str(self.source).lower() for w in _FEEDER_WORDS)

    def _devices(self, sane: Any) -> list[tuple[str, str, str, str]]:
        return [tuple(d) for d in sane.get_devices()]

    def _choose(self, sane: Any) -> str:
        names = [d[0] for d in self._devices(sane)]
        if self.device:
            # Network devices (net:host:…) are not always listed; opening tells.
            return self.device
        if not names:
            raise _no_device(None)
        return names[0]

    @staticmethod
    def _set(dev: Any, name: str, value: Any, *, required: bool) -> None:
        key = name.replace("-", "_")
        if key not in dev.opt:
            if required:
                raise DeviceError(
                    f"スキャナーに設定項目「{name}」がありません。端末の設定を確認してください。",
                    code="scanner.invalid_option",
                )
            return
        option = dev.opt[key]
        if not option.is_active() or not option.is_settable():
            return
        constraint = option.constraint
        if isinstance(constraint, list) and value not in constraint and not required:
            return
        try:
            setattr(dev, key, value)
        except Exception as exc:
            if required:
                raise device_error(exc) from exc

    def _configure(self, dev: Any) -> None:
        self._set(dev, "resolution", self.resolution, required=False)
        self._set(dev, "mode", self.mode, required=False)
        if self.source:
            self._set(dev, "source", self.source, required=True)
        for name, value in self.options.items():
            self._set(dev, name, value, required=True)

    def _out_dir(self) -> Path:
        if self.output_dir is None:
            self.output_dir = Path(tempfile.mkdtemp(prefix="madoguchi-scan-"))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        return self.output_dir

    # -- the contract --------------------------------------------------------------------------

    def scan(self) -> list[ScannedPage]:
        """One page from the glass, or every sheet in the feeder when ``source`` is a feeder."""
        sane = _import_sane()
        images: list[Any] = []
        with _lock:
            sane.init()
            try:
                name = self._choose(sane)
                try:
                    dev = sane.open(name)
                except Exception as exc:
                    if str(exc) in ("Invalid argument", "Error during device I/O"):
                        raise _no_device(name) from exc
                    raise device_error(exc, name) from exc
                try:
                    self._configure(dev)
                    images = self._feed(dev) if self.uses_feeder() else [dev.scan()]
                except DeviceError:
                    raise
                except Exception as exc:
                    raise device_error(exc, name) from exc
                finally:
                    dev.close()
            finally:
                sane.exit()
                keep_sigpipe_as_python_set_it()
        return self._save(images)

    def _feed(self, dev: Any) -> list[Any]:
        images = []
        while True:
            try:
                dev.start()
            except Exception as exc:
                if str(exc) in _NO_MORE_PAGES:
                    break
                raise
            images.append(dev.snap(True))
            keep_sigpipe_as_python_set_it()  # reset at the end of every sheet, not only at sane.exit()
        dev.cancel()
        if not images:
            code, message = STATUS_MESSAGES["Document feeder out of documents"]
            raise DeviceError(message, code=code)
        return images

    def _save(self, images: list[Any]) -> list[ScannedPage]:
        folder = self._out_dir()
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
        pages = []
        for i, image in enumerate(images, start=1):
            path = folder / f"scan_{stamp}_{i:03d}.png"
            image.save(path, "PNG", dpi=(self.resolution, self.resolution))
            pages.append(ScannedPage(path, "image/png", self.resolution))
        return pages

    def check(self) -> CheckResult:
        try:
            sane = _import_sane()
        except DeviceError as exc:
            return CheckResult(False, exc.message)
        with _lock:
            try:
                version = sane.init()
                devices = self._devices(sane)
            except Exception as exc:
                return CheckResult(False, device_error(exc).message)
            finally:
                sane.exit()
                keep_sigpipe_as_python_set_it()
        names = {d[0]: f"{d[1]} {d[2]}".strip() for d in devices}
        details = {"sane_version": ".".join(str(v) for v in version[1:]), "devices": ", ".join(names)}
        if self.device and self.device not in names and not self.device.startswith("net:"):
            return CheckResult(False, _no_device(self.device).message, details)
        if not names and not self.device:
            return CheckResult(False, _no_device(None).message, details)
        chosen = self.device or next(iter(names))
        feeder = "（自動原稿送り）" if self.uses_feeder() else ""
        return CheckResult(True, f"スキャナー「{names.get(chosen, chosen)}」を使えます{feeder}。", details)
