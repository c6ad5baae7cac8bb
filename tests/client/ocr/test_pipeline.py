"""The template OCR pipeline on real images with real Tesseract: accuracy floor and failure modes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from client.core.ocr.engines.base import OcrEngine
from client.core.ocr.errors import ScanProblem
from client.core.ocr.fields import comparable
from client.core.ocr.pipeline import OcrResult, read_document, shared_engines
from client.core.ocr.render import render
from client.core.ocr.templates import TemplateStore
from shared.models.movement_notice import MovementNotice
from shared.schemas.ocr_template import ZoneType

from .conftest import Page, fixed_pages

PAGES = fixed_pages()


@pytest.fixture(scope="module")
def results(store: TemplateStore, engine: OcrEngine) -> list[tuple[Page, OcrResult]]:
    # the shipped configuration: each field type read by the engine routing.yaml names
    return [(page, read_document(page.path, store=store, engine=shared_engines())) for page in PAGES]


def _exact(pairs: list[tuple[Page, OcrResult]], clean: bool | None = None) -> float:
    hits = total = 0
    for page, result in pairs:
        if clean is not None and page.truth["degraded"] == clean:
            continue
        for field, truth in page.fields.items():
            total += 1
            hits += comparable(result.field(field).text) == comparable(truth)
    return hits / total


def test_fixed_set_is_present() -> None:
    """The fixed set holds clean and degraded pages of at least two document types."""
    assert len(PAGES) >= 10
    assert {p.truth["degraded"] for p in PAGES} == {True, False}
    assert len({str(p.truth["template_id"]).split("/")[0] for p in PAGES}) >= 2


def test_every_fixed_page_is_identified(results: list[tuple[Page, OcrResult]]) -> None:
    """Each page is matched to exactly its template (document type, issuer and version)."""
    assert [r.template_id for _, r in results] == [p.truth["template_id"] for p, _ in results]


def test_field_accuracy_floor(results: list[tuple[Page, OcrResult]]) -> None:
    """Field exact match stays above the floor: measured with routing.yaml 275/281 (0.979) all,
    143/144 clean, 132/137 degraded (2026-12-01, grey-first reading); each floor a few misses under it."""
    assert _exact(results) >= 0.96  # Tesseract alone: 0.85 / 0.91 clean
    assert _exact(results, clean=True) >= 0.98
    assert _exact(results, clean=False) >= 0.94


def test_name_accuracy_floor_and_the_glyph_check_harms_none(results: list[tuple[Page, OcrResult]]) -> None:
    """Names: measured 56/58 (the misses: one degraded 下妻 ×2, read as 下); the glyph check never
    turns a right reading wrong on the fixed set."""
    hits = total = 0
    for page, result in results:
        for field, truth in page.fields.items():
            read = result.field(field)
            if read.read_as is not None:
                assert comparable(read.read_as) != comparable(truth), (page.path.name, field)
            if read.type is ZoneType.name:
                total += 1
                hits += comparable(read.text) == comparable(truth)
    assert hits / total >= 0.90


#: Field exact match per document type on the fixed set (2 pages each, clean and degraded), measured
#: with routing.yaml: a floor one or two misses under it, so a regression in a type is caught.
TYPE_FLOORS = {
    "move_out_certificate_equivalent": 0.92,  # measured 25/26 (a 方書 katakana)
    "move_out_certificate_info": 0.88,  # measured 26/26
    "koseki_certificate": 0.87,  # measured 16/16
    "fuhyo_copy": 0.87,  # measured 16/16
    "special_permanent_resident_certificate": 0.85,  # measured 13/14
    "drivers_license": 0.83,  # measured 24/24
}


@pytest.mark.parametrize("kind", sorted(TYPE_FLOORS))
def test_accuracy_floor_per_new_document_type(results: list[tuple[Page, OcrResult]], kind: str) -> None:
    """Each new document type is identified on every page and read above its floor."""
    pairs = [(p, r) for p, r in results if str(p.truth["template_id"]).startswith(kind + "/")]
    assert {p.truth["degraded"] for p, _ in pairs} == {True, False}
    assert all(r.template_id == p.truth["template_id"] for p, r in pairs)
    assert _exact(pairs) >= TYPE_FLOORS[kind]


def _mapped(results: list[tuple[Page, OcrResult]], kind: str) -> tuple[Page, dict[str, Any]]:
    page, result = next((p, r) for p, r in results if r.doc_type == kind and not p.truth["degraded"])
    return page, result.movement_notice


def test_new_types_map_to_the_movement_notice(results: list[tuple[Page, OcrResult]]) -> None:
    """What each new type contributes to the 異動届: the CS printout the 個人番号 and 住民票コード, the
    戸籍 the 本籍/筆頭者/名, the 附票 the address split into its parts, the 特別永住者証明書 the roman
    name and the ISO country, the licence the old address; and the filled notice validates."""
    page, info = _mapped(results, "move_out_certificate_info")
    person = info["persons"][0]
    assert person["my_number"] == page.fields["my_number"]
    assert info["destination"]["municipality"] and info["moved_on"][4] == "-"
    page, koseki = _mapped(results, "koseki_certificate")
    person = koseki["persons"][0]
    assert person["given_name"] == page.fields["given_name"]
    assert comparable(person["register_head"]) == comparable(page.fields["register_head"])
    assert person["domicile"] == page.fields["domicile"]
    page, fuhyo = _mapped(results, "fuhyo_copy")
    assert fuhyo["old_address"]["lg_code"] and fuhyo["old_address"]["town"]
    assert fuhyo["persons"][0]["sex"] in ("1", "2")
    page, card = _mapped(results, "special_permanent_resident_certificate")
    assert card["persons"][0]["roman_name"] == page.fields["name"]
    assert card["persons"][0]["nationality"] in ("KR", "TW", "CN")
    page, licence = _mapped(results, "drivers_license")
    assert licence["persons"][0]["family_name"] and licence["old_address"]["prefecture"]
    person = {**info["persons"][0], "relationship": "世帯主"}
    person.setdefault("sex", "1")
    notice = MovementNotice.model_validate(
        {
            **info,
            "persons": [person],
            "kind": "move_in",
            "notified_on": "2025-04-01",
            "notifier": {"name": "試験　花子", "standing": "self"},
            "new_address": {"prefecture": "茨城県", "municipality": "下妻市", "town": "本城町"},
        }
    )
    assert notice.persons[0].my_number == page_value(results, "move_out_certificate_info", "my_number")


def page_value(results: list[tuple[Page, OcrResult]], kind: str, field: str) -> str:
    return next(p.fields[field] for p, r in results if r.doc_type == kind and not p.truth["degraded"])


def _page_of(kind: str, degraded: bool = False) -> Page:
    return next(
        p
        for p in PAGES
        if str(p.truth["template_id"]).startswith(kind + "/") and p.truth["degraded"] == degraded
    )


def test_koseki_page_upside_down(store: TemplateStore, engine: OcrEngine) -> None:
    """An A4 戸籍全部事項証明書 fed upside down is refused with the advice to turn it."""
    with Image.open(_page_of("koseki_certificate").path) as im:
        rotated = np.asarray(im.convert("RGB"))[::-1, ::-1].copy()
    assert _code(rotated, store, engine) == "ocr.upside_down"


def test_licence_number_with_a_wrong_check_digit_is_a_note(store: TemplateStore) -> None:
    """A licence whose 11th digit disagrees keeps the number but asks the clerk to compare it; a
    scribbled-over number is a field problem, not an invented number."""
    page = _page_of("drivers_license")
    template = store.templates[str(page.truth["template_id"])]
    number = page.fields["license_number"]
    wrong = number[:10] + str((int(number[10]) + 1) % 10) + number[11]
    values = {**page.fields, "license_number": wrong}
    result = read_document(render(template, values, security_pattern=True), store=store)
    field = result.field("license_number")
    assert field.value == wrong and field.note and "検査数字" in field.note and field.needs_confirmation
    scribbled = render(template, page.fields, security_pattern=True).copy()
    b = next(z for z in template.zones if z.field == "license_number").box
    cv2.rectangle(scribbled, (b.x, b.y), (b.x + b.width, b.y + b.height), (0, 0, 0), -1)
    field = read_document(scribbled, store=store).field("license_number")
    assert field.value is None and field.problem


def test_cs_printout_with_a_wrong_my_number_is_refused_field_by_field(store: TemplateStore) -> None:
    """A 個人番号 whose check digit fails is no value (with a reason); the rest of the printout still maps."""
    page = _page_of("move_out_certificate_info")
    template = store.templates[str(page.truth["template_id"])]
    number = page.fields["my_number"]
    values = {**page.fields, "my_number": number[:11] + str((int(number[11]) + 1) % 10)}
    result = read_document(render(template, values, security_pattern=True), store=store)
    field = result.field("my_number")
    assert field.value is None and field.problem and field.needs_confirmation
    assert "my_number" not in result.movement_notice["persons"][0]
    assert result.movement_notice["old_address"]["municipality"]


def test_fuhyo_without_resident_code_says_so(store: TemplateStore) -> None:
    """A 附票 printed without the 住民票コード (it is printed only on request) reports 記載がありません."""
    page = _page_of("fuhyo_copy")
    template = store.templates[str(page.truth["template_id"])]
    values = {k: v for k, v in page.fields.items() if k != "resident_code"}
    result = read_document(render(template, values, security_pattern=True), store=store)
    assert result.field("resident_code").problem == "記載がありません。"
    assert result.template_id == page.truth["template_id"]


def test_half_of_a_koseki_page_is_not_read_as_something_else(store: TemplateStore, engine: OcrEngine) -> None:
    """The top half of a 戸籍 page (the foot with the issuer cut off) is refused or identified as the
    戸籍 — never read as another document type."""
    with Image.open(_page_of("koseki_certificate").path) as im:
        rgb = np.asarray(im.convert("RGB"))
    top = rgb[: rgb.shape[0] // 2].copy()
    try:
        result = read_document(top, store=store, engine=engine)
    except ScanProblem as problem:
        assert problem.error_code in ("ocr.unknown_document", "ocr.registration_failed")
    else:
        assert result.doc_type == "koseki_certificate"


def test_dates_and_codes_are_validated_values(results: list[tuple[Page, OcrResult]]) -> None:
    """Dates become ISO values; a 住民票コード without a value, or any unparsed text, carries a reason."""
    for _, result in results:
        for f in result.fields:
            if f.type is ZoneType.date and f.value:
                assert len(f.value) == 10 and f.value[4] == "-"
            if f.type is ZoneType.resident_code and f.value is None:
                assert f.problem
            if f.value is None and f.text:
                assert f.problem, f


def test_result_has_box_confidence_and_confirmation(results: list[tuple[Page, OcrResult]]) -> None:
    """Every field has its box on the reference page and a 0–1 confidence; names always need confirming."""
    for _, result in results:
        for f in result.fields:
            assert 0.0 <= f.confidence <= 1.0
            assert f.box.width > 0 and f.box.height > 0
            if f.type is ZoneType.name:
                assert f.needs_confirmation


def test_mapping_fills_a_valid_movement_notice(results: list[tuple[Page, OcrResult]]) -> None:
    """The mapped fields, plus what the clerk adds, validate as a 転入 異動届 (address split, 氏/名 split)."""
    _, result = next(
        (p, r) for p, r in results if r.doc_type == "move_out_certificate" and not p.truth["degraded"]
    )
    data = result.movement_notice
    person = data["persons"][0]
    assert person["family_name"] and person["given_name"]
    assert data["old_address"]["prefecture"] and data["old_address"]["municipality"]
    person.setdefault("sex", "1")
    person.setdefault("relationship", "世帯主")
    person.setdefault("birth_date", "1980-01-01")
    new_address = {
        "prefecture": "茨城県",
        "municipality": "下妻市",
        "town": "本城町二丁目",
        "block_number": "22番地",
    }
    notice = MovementNotice.model_validate(
        {
            **data,
            "kind": "move_in",
            "notified_on": "2025-04-01",
            "moved_on": "2025-03-31",
            "notifier": {"name": "試験　花子", "standing": "self"},
            "new_address": new_address,
        }
    )
    assert notice.persons[0].family_name == person["family_name"]


def test_greyscale_and_200_dpi_input(store: TemplateStore, engine: OcrEngine) -> None:
    """A greyscale scan at 200 dpi is identified and read like the colour original."""
    page = PAGES[0]
    with Image.open(page.path) as im:
        grey = im.convert("L").resize((im.width * 2 // 3, im.height * 2 // 3))
        buffer = io.BytesIO()
        grey.save(buffer, "PNG", dpi=(200, 200))
    result = read_document(buffer.getvalue(), store=store, engine=engine)
    assert result.template_id == page.truth["template_id"]
    assert comparable(result.field("birth_date").text) == comparable(page.fields["birth_date"])


def _code(source: object, store: TemplateStore, engine: OcrEngine) -> str:
    with pytest.raises(ScanProblem) as caught:
        read_document(source, store=store, engine=engine)  # type: ignore[arg-type]
    assert caught.value.message.endswith("。")  # a whole Japanese sentence, not a traceback
    return caught.value.error_code


def test_blank_page(store: TemplateStore, engine: OcrEngine) -> None:
    """A white page (with scanner noise) is refused as blank."""
    noise = np.random.default_rng(1).normal(245, 3, (1748, 2480, 3))
    assert _code(np.clip(noise, 0, 255).astype(np.uint8), store, engine) == "ocr.blank_page"


def test_wrong_document(store: TemplateStore, engine: OcrEngine) -> None:
    """A page of text that matches no template is refused as an unknown document."""
    from client.core.ocr.render import font

    page = Image.new("RGB", (2480, 3508), "white")
    from PIL import ImageDraw

    draw = ImageDraw.Draw(page)
    for i in range(30):
        draw.text(
            (200, 200 + i * 100),
            "市役所からのお知らせ　ごみの出し方が変わります。" * 1,
            font=font(60),
            fill="black",
        )
    assert _code(np.asarray(page), store, engine) == "ocr.unknown_document"


def test_upside_down(store: TemplateStore, engine: OcrEngine) -> None:
    """A certificate fed upside down is refused with the advice to turn it."""
    with Image.open(PAGES[0].path) as im:
        rotated = np.asarray(im.convert("RGB"))[::-1, ::-1].copy()
    assert _code(rotated, store, engine) == "ocr.upside_down"


def test_too_skewed(store: TemplateStore, engine: OcrEngine) -> None:
    """A page rotated 20° is refused as too skewed instead of being read wrongly."""
    with Image.open(PAGES[0].path) as im:
        rgb = np.asarray(im.convert("RGB"))
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 20, 0.8)
    skewed = cv2.warpAffine(rgb, matrix, (w, h), borderValue=(255, 255, 255))
    assert _code(skewed, store, engine) == "ocr.too_skewed"


def test_corrupt_and_truncated_files(store: TemplateStore, engine: OcrEngine, tmp_path: Path) -> None:
    """Garbage bytes, a truncated JPEG and a missing file are refused as unreadable image files."""
    truncated = tmp_path / "half.jpg"
    truncated.write_bytes(PAGES[0].path.read_bytes()[:5000])
    assert _code(b"\xff\xd8\xff\xe0 not really a jpeg", store, engine) == "ocr.corrupt_image"
    assert _code(truncated, store, engine) == "ocr.corrupt_image"
    assert _code(tmp_path / "missing.png", store, engine) == "ocr.corrupt_image"


def test_huge_and_tiny_images(store: TemplateStore, engine: OcrEngine, tmp_path: Path) -> None:
    """A 96-megapixel image is refused before decoding; a thumbnail is refused as too small."""
    huge = tmp_path / "huge.png"
    Image.new("1", (12000, 8000), 1).save(huge)
    assert _code(huge, store, engine) == "ocr.image_too_large"
    assert _code(np.full((200, 280, 3), 255, np.uint8), store, engine) == "ocr.image_too_small"


def test_unreadable_field_is_a_field_problem(store: TemplateStore, engine: OcrEngine) -> None:
    """A scribbled-over field gives that field a reason, while the rest of the page is still read."""
    template = store.templates[str(PAGES[0].truth["template_id"])]
    values = dict(PAGES[0].fields)
    page = render(template, values, security_pattern=True).copy()
    zone = next(z for z in template.zones if z.field == "birth_date")
    b = zone.box
    rng = np.random.default_rng(3)
    for _ in range(40):
        x1, x2 = rng.integers(b.x, b.x + b.width, 2)
        y1, y2 = rng.integers(b.y, b.y + b.height, 2)
        cv2.line(page, (int(x1), int(y1)), (int(x2), int(y2)), (0, 0, 0), 6)
    result = read_document(page, store=store, engine=engine)
    field = result.field("birth_date")
    assert field.value is None and field.problem and field.needs_confirmation
    assert "birth_date" not in result.movement_notice.get("persons", [{}])[0]
    assert comparable(result.field("resident_code").text) == comparable(values["resident_code"])


def test_empty_required_field_says_so(store: TemplateStore, engine: OcrEngine) -> None:
    """A required zone left blank on the certificate reports 記載がありません instead of inventing text."""
    template = store.templates[str(PAGES[0].truth["template_id"])]
    values = {k: v for k, v in PAGES[0].fields.items() if k != "register_head"}
    result = read_document(render(template, values, security_pattern=True), store=store, engine=engine)
    field = result.field("register_head")
    assert field.text == "" and field.problem == "記載がありません。"


def test_scan_to_ocr_through_the_scanner_plugin(
    store: TemplateStore, engine: OcrEngine, tmp_path: Path
) -> None:
    """A page delivered by a scanner plugin (the folder-based fake) goes straight into the pipeline."""
    from client.devices.scanners.registry import registry as scanners

    page = PAGES[1]
    (tmp_path / page.path.name).write_bytes(page.path.read_bytes())
    scanned = scanners.create("fake", folder=tmp_path).scan()
    assert len(scanned) == 1
    result = read_document(scanned[0].path, store=store, engine=engine)
    assert result.template_id == page.truth["template_id"]


def test_a5_certificate_is_not_taken_for_the_a4_printout(store: TemplateStore) -> None:
    """A degraded 準ずる証明書 (A5) shares rules and labels with the A4 CS printout; its mapping onto
    the printout covers half of it, which is refused as a coincidence, so it is identified as itself."""
    from client.core.ocr import image, register
    from client.core.ocr.pipeline import covers, reference_features

    page = _page_of("move_out_certificate_equivalent", degraded=True)
    grey = image.drop_colour(image.load(page.path))
    printout = store.templates["move_out_certificate_info/cs/2021-01"]
    match = register.orb(register.features(grey), reference_features(printout))
    assert match is None or not covers(match, grey.shape, printout)
    own = store.templates[str(page.truth["template_id"])]
    assert covers(register.orb(register.features(grey), reference_features(own)), grey.shape, own)  # type: ignore[arg-type]


def test_variant_names_and_a_real_address_read_whole(store: TemplateStore) -> None:
    """A 転出証明書 for 髙橋 and 濱田 living in a real 町域 (二日町, which the 丁目 repair once broke)
    in a メゾン: the folded 異体字 come back through the glyph check (要確認, with the engine's
    reading kept), the address stays as printed without a note."""
    template = store.templates[str(PAGES[0].truth["template_id"])]
    values = {
        **PAGES[0].fields,
        "name": "髙橋　花子",
        "householder": "濱田　一郎",
        "old_address": "岩手県紫波郡紫波町二日町1949番地　メゾン紫波201号",
    }
    result = read_document(
        render(template, values, security_pattern=True), store=store, engine=shared_engines()
    )
    name = result.field("name")
    assert (name.text, name.read_as) == ("髙橋　花子", "高橋　花子")  # PP-OCR outputs 高 for 髙
    assert name.confidence <= 0.7 and name.note and "「高」を「髙」" in name.note
    assert result.field("householder").text == "濱田　一郎"
    address = result.field("old_address")
    assert (address.value, address.note) == (values["old_address"], None)
