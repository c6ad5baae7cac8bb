"""Loading a scan and cleaning pixels: size limits, 地紋 removal, blank-page test, zone crops."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from . import errors

#: Above this the file is refused before decoding (an A3 page at 600 dpi is 70 MP).
MAX_MEGAPIXELS = 80.0
MAX_FILE_BYTES = 200 * 1024 * 1024
MIN_SIDE = 300
#: Below this (after :func:`drop_colour`) a pixel is ink; the light 地紋 colours stay above it.
INK_THRESHOLD = 200

ImageSource = Path | str | bytes | np.ndarray


def load(source: ImageSource) -> np.ndarray:
    """Decode any image (file, bytes or array; colour or grey; any DPI) into RGB pixels."""
    array = source if isinstance(source, np.ndarray) else _decode(source)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise errors.corrupt_image()
    array = np.ascontiguousarray(array[:, :, :3], dtype=np.uint8)
    height, width = array.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise errors.image_too_small()
    return array


def _decode(source: Path | str | bytes) -> np.ndarray:
    try:
        if isinstance(source, bytes):
            size = len(source)
            stream: io.BytesIO | Path = io.BytesIO(source)
        else:
            stream = Path(source)
            size = stream.stat().st_size
    except OSError:
        raise errors.corrupt_image() from None
    if size > MAX_FILE_BYTES:
        raise errors.image_too_large(size / 1e6, MAX_FILE_BYTES / 1e6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as im:
                megapixels = im.width * im.height / 1e6
                if megapixels > MAX_MEGAPIXELS:
                    raise errors.image_too_large(megapixels, MAX_MEGAPIXELS)
                return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise errors.corrupt_image() from None
    except Image.DecompressionBombWarning:
        raise errors.image_too_large(MAX_MEGAPIXELS * 2, MAX_MEGAPIXELS) from None


def drop_colour(rgb: np.ndarray) -> np.ndarray:
    """Greyscale with the coloured 地紋 and uneven lighting removed.

    Each pixel is taken by its *brightest* channel: black or grey ink stays dark in every channel,
    while a light green, blue or pink pattern is bright in at least one (colour drop-out, as
    scanners do in hardware). The page is then divided by its background (a closing at half
    scale), which lifts the shadow at a book edge or a lid gap back to white.
    """
    r, g, b = cv2.split(rgb)
    brightest = cv2.max(cv2.max(r, g), b)
    small = cv2.resize(brightest, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    background = cv2.resize(cv2.blur(background, (9, 9)), (brightest.shape[1], brightest.shape[0]))
    normalised = cv2.divide(brightest, np.maximum(background, 1), scale=255)
    return np.asarray(normalised, dtype=np.uint8)


def is_blank(grey: np.ndarray) -> bool:
    """Almost no ink (after 地紋 removal): an empty page or the back of a card."""
    small = cv2.resize(grey, (max(1, grey.shape[1] // 4), max(1, grey.shape[0] // 4)))
    return float((small < 128).mean()) < 0.002


def clean_zone(grey: np.ndarray) -> np.ndarray:
    """Binarise a zone at the fixed ink threshold, erase long table rules that cross it and specks
    of scanner noise, crop to the ink and pad it with white (Tesseract wants a margin)."""
    return clean_zone_pair(grey)[0]


def clean_zone_pair(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clean_zone`, and the same crop in grey levels: the ink's own shades kept (rules,
    specks and the 地紋 still erased). Binarising a blurred scan fills the small ring of a
    半濁点 (パ reads as バ); the grey crop still shows it."""
    original = grey
    grey = cv2.GaussianBlur(grey, (0, 0), 0.8)
    ink = np.where(grey < INK_THRESHOLD, np.uint8(255), np.uint8(0)).astype(np.uint8)
    height, width = ink.shape
    for kernel in (
        np.ones((1, max(40, width // 3)), np.uint8),
        np.ones((max(40, int(height * 0.9)), 1), np.uint8),
    ):
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        ink = np.asarray(cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 3), np.uint8))), dtype=np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = np.nonzero(stats[:, cv2.CC_STAT_AREA] < 6)[0]
    if count > 1 and len(specks):
        ink[np.isin(labels, specks[specks > 0])] = 0
    near_ink = cv2.dilate(ink, np.ones((3, 3), np.uint8)) > 0
    soft = np.where(near_ink, original, np.uint8(255)).astype(np.uint8)
    ys, xs = np.nonzero(ink)
    if len(xs):
        window = (slice(max(0, ys.min() - 4), ys.max() + 5), slice(max(0, xs.min() - 4), xs.max() + 5))
        ink, soft = ink[window], soft[window]
    return pad(255 - ink, 16), pad(soft, 16)


def ink_pixels(clean: np.ndarray) -> int:
    return int((clean < INK_THRESHOLD).sum())


def pad(grey: np.ndarray, margin: int = 12) -> np.ndarray:
    return cv2.copyMakeBorder(grey, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)


def split_at_gap(clean: np.ndarray, min_gap: float = 0.6) -> list[np.ndarray]:
    """Split a cleaned one-line crop at its widest blank gap (氏｜名, 住所｜方書) when that gap is
    wider than ``min_gap`` line heights; otherwise the crop itself."""
    cut = gap_column(clean, min_gap)
    return [clean] if cut is None else [clean[:, :cut], clean[:, cut:]]


def gap_column(clean: np.ndarray, min_gap: float = 0.6) -> int | None:
    """The column in the middle of the widest blank gap of a cleaned one-line crop, when that gap
    is wider than ``min_gap`` line heights (else None)."""
    columns = (clean < 128).any(axis=0)
    inked = np.nonzero(columns)[0]
    if len(inked) < 2:
        return None
    gaps = np.diff(inked)
    widest = int(np.argmax(gaps))
    height = int((clean < 128).any(axis=1).sum())
    if gaps[widest] < max(8, min_gap * height):
        return None
    return int(inked[widest]) + int(gaps[widest]) // 2


#: Text smaller than this (px of ink height) is enlarged before recognition (card faces at 300 dpi).
MIN_TEXT_HEIGHT = 44


def enlarge_small_text(clean: np.ndarray) -> np.ndarray:
    """Scale a cleaned crop up so its ink is at least MIN_TEXT_HEIGHT tall; Tesseract drops small
    digits between kanji (1年3月 → 1年月) at card-face sizes."""
    return resize(clean, enlargement(clean))


def enlargement(clean: np.ndarray) -> float:
    """The factor :func:`enlarge_small_text` scales a cleaned crop by (1.0: left as it is)."""
    rows = np.nonzero((clean < 128).any(axis=1))[0]
    if not len(rows):
        return 1.0
    height = int(rows[-1] - rows[0] + 1)
    if height >= MIN_TEXT_HEIGHT:
        return 1.0
    return min(3.0, MIN_TEXT_HEIGHT / height)


def resize(crop: np.ndarray, factor: float) -> np.ndarray:
    if factor == 1.0:
        return crop
    return np.asarray(
        cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC), dtype=np.uint8
    )
