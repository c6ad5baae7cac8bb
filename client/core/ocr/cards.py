"""A card (在留カード, マイナンバーカード, 運転免許証 …) laid anywhere on a flatbed and scanned as an A4
page: find it, cut it out and turn it level before identification.

The scanner's lid is white and the rest of the page is empty, so after the 地紋 removal the card is
the one cluster of ink on the page: its frame, edge shadow and print, closed into one blob. The blob
must be card-shaped (ISO/IEC 7810 ID-1, 85.6 × 54 mm: long / short ≈ 1.59), hold nearly all the
page's ink and cover a small part of the page; otherwise the image is taken as it is (a certificate,
or a card scanned on its own). The crop keeps a margin and is turned so the long side is level; the
template registration that follows fixes the rest, and an upside-down crop is turned once more by
:func:`client.core.ocr.pipeline.read_document`.
"""

from __future__ import annotations

import cv2
import numpy as np

#: ID-1 card: 85.6 × 54.0 mm.
CARD_ASPECT = 85.6 / 54.0
#: Long side of the cut-out card in px (the card templates' 1,011 px plus a margin).
CROP_LONG_SIDE = 1100
_WORK_SIDE = 900
_INK = 200
#: Clusters of ink smaller than this (px at the working scale) are specks, not print.
_SPECK = 40


def find_card(grey: np.ndarray, rgb: np.ndarray) -> np.ndarray | None:
    """The card cut out of a flatbed page and levelled (RGB, long side horizontal), or None when
    the image is not a page with one card on it. ``grey`` is the page after 地紋 removal."""
    height, width = grey.shape
    scale = _WORK_SIDE / max(height, width)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = np.where(small < _INK, np.uint8(255), np.uint8(0)).astype(np.uint8)
    total = int(np.count_nonzero(ink))
    if total == 0:
        return None
    size = max(5, _WORK_SIDE // 60)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))
    # scanner noise and JPEG specks on the empty lid are not "other print on the page"
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    specks = np.nonzero(stats[:, cv2.CC_STAT_AREA] < _SPECK)[0]
    if count > 1 and len(specks):
        noise = np.isin(labels, specks[specks > 0])
        closed[noise] = 0
        ink[noise] = 0
        total = int(np.count_nonzero(ink))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    # the hull: a frame broken by the scan (a thin edge lost in the blur) still encloses the card
    blob = cv2.convexHull(max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
    (cx, cy), (w, h), angle = cv2.minAreaRect(blob)
    long_side, short_side = max(w, h), min(w, h)
    if short_side < 20:
        return None
    page_area = small.shape[0] * small.shape[1]
    filled = np.zeros_like(ink)
    cv2.drawContours(filled, [blob], -1, 255, -1)
    inside = int(np.count_nonzero(cv2.bitwise_and(ink, filled)))
    if not (
        abs(long_side / short_side - CARD_ASPECT) < 0.18  # card-shaped
        and 0.02 < long_side * short_side / page_area < 0.4  # a small part of the page
        and cv2.contourArea(blob) > 0.85 * w * h  # a solid rectangle, not a scatter of words
        and inside > 0.85 * total  # little else printed on the page
    ):
        return None
    # the rectangle's corners in full-size pixels, with a margin of 4 % of the long side
    margin = 0.04 * long_side
    box = cv2.boxPoints(((cx, cy), (w + 2 * margin, h + 2 * margin), angle)) / scale
    # order: the long side level, top-left first, clockwise
    box = _order(box)
    crop_w = CROP_LONG_SIDE
    crop_h = round(CROP_LONG_SIDE * (short_side + 2 * margin) / (long_side + 2 * margin))
    target = np.array([[0, 0], [crop_w - 1, 0], [crop_w - 1, crop_h - 1], [0, crop_h - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    warped = cv2.warpPerspective(
        rgb, matrix, (crop_w, crop_h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255)
    )
    return np.ascontiguousarray(warped)


def _order(box: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left of a landscape rectangle: clockwise
    on screen (never mirrored), the first edge a long one running left to right."""
    points = box.reshape(4, 2).astype(np.float64)
    a, b, c = points[0], points[1], points[2]
    if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) < 0:  # anticlockwise on screen
        points = points[::-1]
    edges = [float(np.linalg.norm(points[(i + 1) % 4] - points[i])) for i in range(4)]
    start = 0 if edges[0] >= edges[1] else 1
    ordered = np.roll(points, -start, axis=0)
    if ordered[1][0] < ordered[0][0]:  # the long edge runs right to left: start at the opposite one
        ordered = np.roll(ordered, -2, axis=0)
    return ordered
