"""WIA 2.0 scanners (Windows) through ``comtypes`` (MIT) and Windows' own ``WIA.DeviceManager``.

**Untested on hardware and never run on Windows here** (written from Microsoft's WIA Automation
Layer reference; the machine this was made on is Linux). What is tested everywhere: the mapping of
WIA's HRESULTs to Japanese messages and the behaviour where WIA is missing. Why WIA: the PyPI name
``twain`` has no installable files and ``pytwain`` is GPL-2.0 (see docs/ocr.md).

Settings: ``device`` (part of the WIA device name, e.g. ``fi-7160``; empty = the first scanner),
``resolution`` (dpi, default 300), ``color`` (``gray`` default, ``color``, ``text``), ``feeder``
(true: every sheet in the ADF until it is empty), ``output_dir``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import ScannedPage, Scanner
from .registry import registry

SCANNER_DEVICE_TYPE = 1
FORMAT_PNG = "{B96B3CAF-0728-11D3-9D7B-0000F81EF32E}"
#: WIA property ids (wiadef.h).
PROP_INTENT = 6146
PROP_HRES = 6147
PROP_VRES = 6148
PROP_HANDLING_SELECT = 3088
PROP_PAGES = 3096
FEEDER = 1
INTENTS = {"color": 1, "gray": 2, "text": 4}

#: HRESULT (unsigned) → (code, Japanese message).
HRESULTS: dict[int, tuple[str, str]] = {
    0x80210002: (
        "scanner.jammed",
        "スキャナーで紙詰まりが起きました。詰まった紙を取り除き、原稿をセットし直してから読み取ってください。",
    ),
    0x80210003: (
        "scanner.no_documents",
        "原稿がセットされていません。原稿を給紙トレイに置いてから読み取ってください。",
    ),
    0x80210016: (
        "scanner.cover_open",
        "スキャナーのカバーが開いています。カバーを閉じてから読み取ってください。",
    ),
    0x80210005: ("scanner.offline", "スキャナーがオフラインです。電源と接続を確認してください。"),
    0x80210006: (
        "scanner.busy",
        "スキャナーは別の処理で使用中です。しばらく待ってからもう一度読み取ってください。",
    ),
    0x8021000D: ("scanner.busy", "スキャナーは別のアプリケーションが使用中です。そちらを終了してください。"),
    0x80210015: (
        "scanner.no_device",
        "スキャナーが見つかりません。電源と USB/ネットワークの接続を確認してください。",
    ),
    0x8021000A: (
        "scanner.io",
        "スキャナーとの通信に失敗しました。ケーブル・電源・ネットワークを確認してください。",
    ),
    0x80210064: ("scanner.cancelled", "読み取りが中止されました。"),
}


def hresult_error(hresult: int) -> DeviceError:
    """The Japanese DeviceError for a WIA HRESULT (signed or unsigned)."""
    code, message = HRESULTS.get(
        hresult & 0xFFFFFFFF,
        ("scanner.failed", f"スキャナーで読み取れませんでした (WIA 0x{hresult & 0xFFFFFFFF:08X})。"),
    )
    return DeviceError(message, code=code)


def _client() -> Any:
    try:
        import comtypes.client  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise DeviceError(
            "WIA スキャナーは Windows でのみ使えます (comtypes が必要です)。", code="scanner.wia_missing"
        ) from exc
    return comtypes.client


def _hresult_of(exc: BaseException) -> int | None:
    value = getattr(exc, "hresult", None)
    if value is None and exc.args and isinstance(exc.args[0], int):
        value = exc.args[0]
    return int(value) if value is not None else None


@registry.register
class WiaScanner(Scanner):
    """A scanner driven through WIA 2.0 on Windows (untested on hardware)."""

    plugin_id = "wia"
    label = "WIA スキャナー (Windows・未検証)"

    def __init__(
        self,
        device: str | None = None,
        resolution: int = 300,
        color: str = "gray",
        feeder: bool = False,
        output_dir: str | Path | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.device = device or ""
        self.resolution = int(resolution)
        self.intent = INTENTS.get(color, 2)
        self.feeder = bool(feeder)
        self.output_dir = Path(output_dir).expanduser() if output_dir else None

    def _scanners(self, client: Any) -> list[tuple[Any, str]]:
        manager = client.CreateObject("WIA.DeviceManager")
        found = []
        for i in range(1, manager.DeviceInfos.Count + 1):
            info = manager.DeviceInfos.Item(i)
            if info.Type == SCANNER_DEVICE_TYPE:
                found.append((info, str(info.Properties("Name").Value)))
        return found

    def _choose(self, client: Any) -> Any:
        for info, name in self._scanners(client):
            if self.device.lower() in name.lower():
                return info
        raise hresult_error(0x80210015)

    @staticmethod
    def _set(props: Any, prop_id: int, value: int) -> None:
        for i in range(1, props.Count + 1):
            prop = props.Item(i)
            if prop.PropertyID == prop_id:
                prop.Value = value
                return

    def scan(self) -> list[ScannedPage]:
        client = _client()
        folder = self.output_dir or Path(tempfile.mkdtemp(prefix="madoguchi-scan-"))
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S_%f")
        pages: list[ScannedPage] = []
        try:
            device = self._choose(client).Connect()
            if self.feeder:
                self._set(device.Properties, PROP_HANDLING_SELECT, FEEDER)
                self._set(device.Properties, PROP_PAGES, 1)
            item = device.Items.Item(1)
            self._set(item.Properties, PROP_INTENT, self.intent)
            self._set(item.Properties, PROP_HRES, self.resolution)
            self._set(item.Properties, PROP_VRES, self.resolution)
            while True:
                try:
                    image = item.Transfer(FORMAT_PNG)
                except Exception as exc:
                    hresult = _hresult_of(exc)
                    if self.feeder and pages and hresult is not None and hresult & 0xFFFFFFFF == 0x80210003:
                        break  # the feeder is empty: done
                    raise
                path = folder / f"scan_{stamp}_{len(pages) + 1:03d}.png"
                image.SaveFile(str(path))
                pages.append(ScannedPage(path, "image/png", self.resolution))
                if not self.feeder:
                    break
        except DeviceError:
            raise
        except Exception as exc:
            hresult = _hresult_of(exc)
            if hresult is None:
                raise DeviceError("スキャナーで読み取れませんでした。", code="scanner.failed") from exc
            raise hresult_error(hresult) from exc
        return pages

    def check(self) -> CheckResult:
        try:
            client = _client()
            names = [name for _, name in self._scanners(client)]
        except DeviceError as exc:
            return CheckResult(False, exc.message)
        except Exception as exc:
            hresult = _hresult_of(exc)
            message = hresult_error(hresult).message if hresult is not None else "WIA を使えません。"
            return CheckResult(False, message)
        chosen = [n for n in names if self.device.lower() in n.lower()]
        if not chosen:
            return CheckResult(False, hresult_error(0x80210015).message, {"devices": ", ".join(names)})
        return CheckResult(
            True, f"スキャナー「{chosen[0]}」を使えます（WIA・未検証）。", {"devices": ", ".join(names)}
        )
