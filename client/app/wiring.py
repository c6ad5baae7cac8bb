"""Plugin wiring (Qt-free): the station profile says which plugin each device family uses.

:func:`build_devices` instantiates them from their registries with the profile's settings;
:func:`check_all` runs every ``check()`` for the supervisor's status table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.core.ocr.engines.registry import registry as ocr_registry
from client.core.ocr.routing import ROUTED, Engines
from client.devices.biometric.base import BiometricReader
from client.devices.biometric.registry import registry as biometric_registry
from client.devices.card_readers.base import CardReader
from client.devices.card_readers.registry import registry as card_reader_registry
from client.devices.printers.base import Printer
from client.devices.printers.registry import registry as printer_registry
from client.devices.scanners.base import Scanner
from client.devices.scanners.registry import registry as scanner_registry
from shared.errors import InvalidInput, MadoguchiError
from shared.plugins import CheckResult, Plugin
from shared.schemas.device_profiles import StationProfile
from shared.yamlfile import load_yaml

FAMILY_LABELS = {
    "scanner": "スキャナー",
    "printer": "プリンター",
    "card_reader": "カードリーダー",
    "biometric": "生体認証",
    "ocr_engine": "OCR",
}


def load_station(station_dir: Path, station_id: str) -> StationProfile:
    """Read and validate ``<station_dir>/<station_id>.yaml``."""
    path = station_dir / f"{station_id}.yaml"
    if not path.is_file():
        raise InvalidInput(
            f"端末プロファイル「{station_id}」が見つかりません（{path}）。", code="station.unknown"
        )
    data = load_yaml(path.read_text(encoding="utf-8"))
    return StationProfile.model_validate(data)


@dataclass
class Devices:
    """The plugins of one station."""

    scanner: Scanner
    printer: Printer
    card_reader: CardReader
    ocr: Engines
    biometric: BiometricReader | None = None

    @property
    def ocr_engine(self) -> Engines:
        """What to pass as ``read_document(engine=…)``: the routed engines (one per field type)."""
        return self.ocr

    def all(self) -> list[tuple[str, Plugin]]:
        items: list[tuple[str, Plugin]] = [
            ("scanner", self.scanner),
            ("printer", self.printer),
            ("card_reader", self.card_reader),
        ]
        items += [("ocr_engine", engine) for engine in self.ocr.all()]
        if self.biometric is not None:
            items.append(("biometric", self.biometric))
        return items


def build_devices(profile: StationProfile) -> Devices:
    """Instantiate the plugins the profile names; unknown ids raise UnknownPlugin (Japanese)."""
    s = profile.settings
    return Devices(
        scanner=scanner_registry.create(profile.scanner, **s.get("scanner", {})),
        printer=printer_registry.create(profile.printer, **s.get("printer", {})),
        card_reader=card_reader_registry.create(profile.card_reader, **s.get("card_reader", {})),
        ocr=build_ocr(profile.ocr_engine, s.get("ocr_engine", {})),
        biometric=(
            biometric_registry.create(profile.biometric, **s.get("biometric", {}))
            if profile.biometric
            else None
        ),
    )


def build_ocr(engine_id: str, settings: dict[str, Any]) -> Engines:
    """``routed`` (the default): each field type read by the engine ``routing.yaml`` names, every
    engine loaded once; any other id: every field read by that one engine (a station forcing one).
    ``settings`` go to the engine plugin named ``engine_id``, or per engine id when routed
    (``{"tesseract": {...}}``)."""
    if engine_id == ROUTED:
        return Engines(create=lambda name: ocr_registry.create(name, **settings.get(name, {})))
    return Engines.single(ocr_registry.create(engine_id, **settings))


@dataclass(frozen=True)
class PluginStatus:
    family: str
    plugin_id: str
    label: str
    is_fake: bool
    result: CheckResult


def check_all(devices: Devices) -> list[PluginStatus]:
    """Run every plugin's check(); a crashing check is reported, not raised."""
    out = []
    for family, plugin in devices.all():
        try:
            result = plugin.check()
        except MadoguchiError as exc:
            result = CheckResult(False, exc.message)
        except Exception as exc:  # a plugin bug must not take the status page down
            result = CheckResult(False, f"確認中にエラーが発生しました（{type(exc).__name__}）。")
        out.append(PluginStatus(family, plugin.plugin_id, plugin.label, plugin.is_fake, result))
    return out
