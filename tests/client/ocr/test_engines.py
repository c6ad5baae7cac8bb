"""The Tesseract engine plugin and the registration step, on real pixels."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from client.core.ocr import image, register
from client.core.ocr.engines.base import OcrEngine, ReadRequest
from client.core.ocr.engines.registry import DEFAULT_ENGINE, registry
from client.core.ocr.engines.tesseract import TesseractEngine
from client.core.ocr.pipeline import reference_features
from client.core.ocr.render import font, render
from client.core.ocr.templates import TemplateStore


def test_tesseract_is_the_default_and_reports_version_and_languages(engine: OcrEngine) -> None:
    """check() says which Tesseract and which languages are installed, separately from reading."""
    assert DEFAULT_ENGINE == "tesseract" and "tesseract" in registry.ids()
    check = engine.check()
    assert check.ok and check.details["version"].startswith("5.")
    assert "jpn" in check.details["languages"].split(",")


def test_tesseract_without_data_is_not_usable() -> None:
    """Without jpn.traineddata anywhere, check() says so in Japanese instead of failing on first use."""
    engine = TesseractEngine()
    engine.tessdata = None  # as if nothing were installed anywhere
    check = engine.check()
    assert not check.ok and "jpn.traineddata" in check.message


def test_reads_a_printed_line(engine: OcrEngine) -> None:
    """A line printed in IPAmj明朝 is read exactly, and digits honour a whitelist."""
    canvas = Image.new("L", (900, 90), 255)
    ImageDraw.Draw(canvas).text((10, 10), "茨城県下妻市本城町", font=font(56), fill=0)
    result = engine.read(image.clean_zone(np.asarray(canvas)), ReadRequest(psm=7))
    assert result.text.replace(" ", "") == "茨城県下妻市本城町" and result.confidence > 0.5
    canvas = Image.new("L", (900, 90), 255)
    ImageDraw.Draw(canvas).text((10, 10), "12345678901", font=font(56), fill=0)
    digits = engine.read(image.clean_zone(np.asarray(canvas)), ReadRequest(psm=7, whitelist="0123456789"))
    assert digits.text == "12345678901"


def test_orb_registration_error_below_two_pixels(store: TemplateStore) -> None:
    """A page rotated 2°, scaled 0.97 and shifted is mapped back within 2 px at the page corners."""
    template = store.templates["move_out_certificate/082104/2021-01"]
    page = render(template, {"name": "下妻　花子"}, security_pattern=True)
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 0.97)
    matrix[:, 2] += (35, -22)
    scan = cv2.warpAffine(page, matrix, (w, h), borderValue=(255, 255, 255))
    found = register.orb(register.features(image.drop_colour(scan)), reference_features(template))
    assert found is not None and found.method == "orb"
    corners = np.array([[200, 200], [w - 200, 200], [200, h - 200], [w - 200, h - 200]], np.float64)
    in_scan = np.hstack([corners, np.ones((4, 1))]) @ matrix.T
    back = cv2.perspectiveTransform(in_scan.reshape(-1, 1, 2), found.homography).reshape(-1, 2)
    assert np.abs(back - corners).max() < 2.0


def test_ecc_fallback_refines_a_rough_guess(store: TemplateStore) -> None:
    """ECC starting from a guess a few pixels off converges onto the page."""
    template = store.templates["move_out_certificate/082104/2021-01"]
    page = render(template)
    matrix = np.array([[1, 0, 12], [0, 1, -8]], dtype=np.float32)
    scan = cv2.warpAffine(page, matrix, (page.shape[1], page.shape[0]), borderValue=(255, 255, 255))
    guess = np.array([[1, 0, -6], [0, 1, 4], [0, 0, 1]], np.float64)
    found = register.ecc(register.features(image.drop_colour(scan)), reference_features(template), guess)
    assert found is not None and found.method == "ecc"
    assert abs(found.homography[0, 2] + 12) < 2.0 and abs(found.homography[1, 2] - 8) < 2.0


def test_ppocr_plugin_reads_a_rare_kanji_name() -> None:
    """The PP-OCRv5 plugin beside Tesseract is usable and reads a line; the whitelist filters its output."""
    engine = registry.create("ppocr")
    assert engine.check().ok
    canvas = Image.new("L", (900, 90), 255)
    ImageDraw.Draw(canvas).text((10, 10), "渡邊　高子", font=font(56), fill=0)
    result = engine.read(image.clean_zone(np.asarray(canvas)), ReadRequest(psm=7))
    assert result.text.replace(" ", "").replace("　", "") == "渡邊高子"
    canvas = Image.new("L", (900, 90), 255)
    ImageDraw.Draw(canvas).text((10, 10), "No.12345", font=font(56), fill=0)
    digits = engine.read(image.clean_zone(np.asarray(canvas)), ReadRequest(psm=7, whitelist="0123456789"))
    assert digits.text == "12345"
