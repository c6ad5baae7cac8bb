"""Device and OCR plugin registries, their fakes, and the station profiles."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from client.app.settings import default_station_dir
from client.app.wiring import build_devices, check_all, load_station
from client.core.ocr.engines.registry import registry as ocr_registry
from client.devices.biometric.registry import registry as biometric_registry
from client.devices.card_readers.registry import registry as card_reader_registry
from client.devices.printers.registry import registry as printer_registry
from client.devices.scanners.registry import registry as scanner_registry
from shared.api import StationMode
from shared.errors import DeviceError, InvalidInput
from shared.plugins import Plugin, Registry, UnknownPlugin
from shared.schemas.device_profiles import StationProfile
from shared.text.checkdigit import normalize_my_number

REGISTRIES: list[Registry[Plugin]] = [
    scanner_registry,  # type: ignore[list-item]
    printer_registry,  # type: ignore[list-item]
    card_reader_registry,  # type: ignore[list-item]
    biometric_registry,  # type: ignore[list-item]
    ocr_registry,  # type: ignore[list-item]
]


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.family)
def test_every_family_has_a_checked_fake(registry: Registry[Plugin]) -> None:
    """Each registry lists a 'fake' plugin that is marked fake, labelled in Japanese and checks OK."""
    assert "fake" in registry.ids()
    plugin = registry.create("fake")
    assert plugin.is_fake and plugin.label
    result = plugin.check()
    assert result.ok and result.message


@pytest.mark.parametrize("registry", REGISTRIES, ids=lambda r: r.family)
def test_unknown_plugin_is_a_japanese_error(registry: Registry[Plugin]) -> None:
    """Asking for an id nobody registered raises UnknownPlugin naming the family and the choices."""
    with pytest.raises(UnknownPlugin) as info:
        registry.get("no-such-device")
    assert "no-such-device" in info.value.message and "登録されていません" in info.value.message
    assert "fake" in info.value.message


def test_fake_scanner_returns_folder_images(tmp_path: Path) -> None:
    """The fake scanner gives back the folder's images in name order and ignores other files."""
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    scanner = scanner_registry.create("fake", folder=str(tmp_path))
    assert [p.path.name for p in scanner.scan()] == ["a.jpg", "b.png"]
    assert scanner.check().ok
    missing = scanner_registry.create("fake", folder=str(tmp_path / "missing"))
    assert not missing.check().ok


def test_fake_printer_writes_pdf(tmp_path: Path) -> None:
    """The fake printer stores each job as a PDF file and refuses data that is not a PDF."""
    printer = printer_registry.create("fake", folder=str(tmp_path))
    job = printer.print_pdf(b"%PDF-1.4\n%%EOF\n", title="異動届")
    assert job.location and Path(job.location).read_bytes().startswith(b"%PDF")
    with pytest.raises(DeviceError):
        printer.print_pdf(b"not a pdf", title="x")


def test_fake_card_reader_is_synthetic() -> None:
    """The fake card reader returns labelled synthetic 券面事項 with a check-digit-valid 個人番号."""
    reader = card_reader_registry.create("fake")
    info = reader.read_face_info("1234")
    assert info.synthetic and info.birth_date == date(1980, 4, 1)
    assert info.my_number and normalize_my_number(info.my_number) == info.my_number
    with pytest.raises(DeviceError) as err:
        reader.read_face_info("0000")
    assert err.value.message == "暗証番号が違います。"


def test_fake_ocr_reads_truth_file(tmp_path: Path) -> None:
    """The fake OCR engine returns the .txt next to the image, or nothing with confidence 0."""
    image = tmp_path / "page.png"
    image.write_bytes(b"x")
    engine = ocr_registry.create("fake")
    assert engine.recognize(image).confidence == 0.0
    image.with_suffix(".txt").write_text("茨城県下妻市", encoding="utf-8")
    assert engine.recognize(image).text == "茨城県下妻市"


@pytest.mark.parametrize("station", ["counter", "supervisor", "kiosk"])
def test_station_profiles_validate_and_wire(station: str) -> None:
    """Each station YAML validates as a StationProfile and every plugin it names exists and checks."""
    raw = yaml.safe_load((default_station_dir() / f"{station}.yaml").read_text(encoding="utf-8"))
    profile = StationProfile.model_validate(raw)
    assert profile.id == station and profile.default_mode in profile.modes
    statuses = check_all(build_devices(load_station(default_station_dir(), station)))
    assert statuses and all(s.result.ok for s in statuses)


def test_kiosk_profile_is_full_screen_kiosk_only() -> None:
    """The kiosk station offers only kiosk mode, full screen."""
    profile = load_station(default_station_dir(), "kiosk")
    assert profile.modes == [StationMode.kiosk] and profile.full_screen


def test_unknown_station_is_japanese_error(tmp_path: Path) -> None:
    """A missing station profile is an InvalidInput with a Japanese message."""
    with pytest.raises(InvalidInput) as info:
        load_station(tmp_path, "nowhere")
    assert "端末プロファイル" in info.value.message


def test_profile_with_unknown_plugin_fails_loudly(tmp_path: Path) -> None:
    """A station naming a plugin that does not exist fails at wiring time with UnknownPlugin."""
    (tmp_path / "odd.yaml").write_text(
        "id: odd\nlabel: 変な端末\nmodes: [counter]\ndefault_mode: counter\nscanner: twain-x\n",
        encoding="utf-8",
    )
    with pytest.raises(UnknownPlugin):
        build_devices(load_station(tmp_path, "odd"))


def test_counter_station_reads_with_the_routed_engines() -> None:
    """The counter's wiring hands the pipeline the engine per field type from routing.yaml (PP-OCR
    for names, Tesseract for dates), not one engine for everything; the device check lists each."""
    from client.core.ocr.routing import Engines, load_routing
    from shared.schemas.ocr_template import ZoneType

    devices = build_devices(load_station(default_station_dir(), "counter"))
    routing = load_routing()
    assert isinstance(devices.ocr_engine, Engines)
    assert dict(devices.ocr.routing.types) == dict(routing.types)
    for kind in ZoneType:
        assert devices.ocr.for_type(kind).plugin_id == routing.engine_for(kind)
    assert devices.ocr.for_type(ZoneType.name).plugin_id != devices.ocr.for_type(ZoneType.date).plugin_id
    checked = [s.plugin_id for s in check_all(devices) if s.family == "ocr_engine"]
    assert sorted(checked) == sorted(set(routing.types.values()) | {routing.default, routing.issuer})


def test_station_forcing_one_ocr_engine(tmp_path: Path) -> None:
    """A station naming one engine id gets every field read by it (and an unknown id fails loudly)."""
    from shared.schemas.ocr_template import ZoneType

    (tmp_path / "one.yaml").write_text(
        "id: one\nlabel: 一台\nmodes: [counter]\ndefault_mode: counter\nocr_engine: tesseract\n",
        encoding="utf-8",
    )
    devices = build_devices(load_station(tmp_path, "one"))
    assert {devices.ocr.for_type(kind).plugin_id for kind in ZoneType} == {"tesseract"}
    (tmp_path / "bad.yaml").write_text(
        "id: bad\nlabel: 不明\nmodes: [counter]\ndefault_mode: counter\nocr_engine: abbyy\n", encoding="utf-8"
    )
    with pytest.raises(UnknownPlugin):
        build_devices(load_station(tmp_path, "bad"))
