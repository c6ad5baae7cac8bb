"""The counter screen and its station (no server): 読取 with the station profile's OCR setting."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("PySide6")

from pytestqt.qtbot import QtBot

from client.app.context import AppContext, build_context
from client.app.main import create_application
from client.app.settings import ClientSettings, default_station_dir
from client.core.auth import Session
from client.core.ocr.engines.base import OcrEngine, OcrResult, ReadRequest
from client.core.ocr.engines.registry import registry as ocr_registry
from client.core.ocr.routing import Engines
from client.ui.counter.move_in import MoveInForm
from client.ui.main_window import MainWindow
from client.ui.worker import wait_for_background
from shared.api import UserInfo

pytestmark = pytest.mark.ui

PAGE = Path(__file__).resolve().parents[1] / "data" / "ocr" / "fixed" / "page0000.jpg"
TRUTH = json.loads(PAGE.with_suffix(".json").read_text(encoding="utf-8"))["fields"]


def station_dir(folder: Path, **changes: Any) -> Path:
    """A copy of the counter station profile with ``changes``."""
    profile = yaml.safe_load((default_station_dir() / "counter.yaml").read_text(encoding="utf-8"))
    profile.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counter.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def user(username: str = "demo", display_name: str = "試験 職員") -> UserInfo:
    return UserInfo(
        id=uuid.uuid4(),
        lg_code="082104",
        username=username,
        display_name=display_name,
        permissions=["mode.counter"],
        groups=[],
    )


@pytest.fixture
def make_ctx(client_settings: ClientSettings) -> Iterator[Any]:
    made: list[AppContext] = []

    def build(stations: Path | None = None, username: str = "demo") -> AppContext:
        create_application()
        settings = client_settings.model_copy(update={"station_dir": stations or default_station_dir()})
        ctx = build_context(settings)
        ctx.session = Session("http://127.0.0.1:9", "token", None, user(username))
        made.append(ctx)
        return ctx

    yield build
    wait_for_background(10000)
    for ctx in made:
        ctx.close()


class RecordingEngine(OcrEngine):
    """The real Tesseract engine, counting its calls (stands for the one engine a station forces)."""

    plugin_id = "recording"
    label = "記録用"

    def __init__(self) -> None:
        super().__init__()
        self.inner = ocr_registry.create("tesseract")
        self.calls = 0

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        self.calls += 1
        return self.inner.read(image, request)


def test_reading_uses_the_engines_given_to_the_screen(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """読取 reads with the screen's engines (the station's), never the process's routed default."""
    import client.core.ocr.pipeline as pipeline

    def no_default() -> Engines:
        raise AssertionError("the routed default engines were used")

    monkeypatch.setattr(pipeline, "shared_engines", no_default)
    create_application()
    engine = RecordingEngine()
    form = MoveInForm(engines=Engines.single(engine))
    qtbot.addWidget(form)
    page = tmp_path / PAGE.name
    shutil.copy(PAGE, page)
    with qtbot.waitSignal(form.reading_finished, timeout=120_000):
        form.read_file(page)
    assert "読み取りました" in form.scan_status.text(), form.scan_status.text()
    assert engine.calls > 5  # every zone of the 転出証明書 went to the forced engine
    assert form.fields["persons.0.birth_date"].text() == TRUTH["birth_date"]


def test_main_window_gives_the_station_ocr_setting_to_the_canvas(
    qtbot: QtBot, tmp_path: Path, make_ctx: Any
) -> None:
    """A station profile forcing ``ocr_engine: fake``: the counter's canvas reads with that engine
    alone (a routed station gets the routed table)."""
    ctx = make_ctx(station_dir(tmp_path / "stations", ocr_engine="fake"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    form = window.counter
    assert form is not None and form.engines is ctx.devices.ocr
    assert form.engines.engine_ids() == ["fake"]
    assert [e.plugin_id for e in form.engines.all()] == ["fake"]
    routed = make_ctx(station_dir(tmp_path / "routed", ocr_engine="routed"))
    window2 = MainWindow(routed)
    qtbot.addWidget(window2)
    assert window2.counter is not None and window2.counter.engines is routed.devices.ocr
    assert len(routed.devices.ocr.engine_ids()) >= 1 and routed.devices.ocr.engine_ids() != ["fake"]
