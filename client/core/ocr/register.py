"""Registration: the homography that maps a scan onto a template's reference image.

ORB features + ratio test + RANSAC of a similarity transform first (≈ 0.7 px, D_ocr_cards.md
§1.2); when too few features agree, ECC (affine, on a reduced image) starting from the best
guess. Both run on greyscale images whose 地紋 was removed, at a working scale of about
1,200 px on the long side (half the reference's for the precise registration of an A4 page).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 1240
MIN_INLIERS = 25
_ORB = cv2.ORB_create(  # type: ignore[attr-defined]
    nfeatures=1500, fastThreshold=12
)
_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


@dataclass(frozen=True)
class Features:
    """ORB keypoints of one image at working scale; ``scale`` = working px / full px."""

    points: np.ndarray  # (n, 2) float32 in working px
    descriptors: np.ndarray | None
    scale: float
    small: np.ndarray  # the working-scale greyscale image (for ECC)

    def strongest(self, count: int) -> Features:
        """The ``count`` keypoints with the strongest response (they come sorted by it)."""
        descriptors = None if self.descriptors is None else self.descriptors[:count]
        return Features(self.points[:count], descriptors, self.scale, self.small)


@dataclass(frozen=True)
class Registration:
    """``homography`` maps full-resolution scan pixels to reference pixels."""

    homography: np.ndarray
    inliers: int
    method: str  # "orb" or "ecc"

    @property
    def angle(self) -> float:
        """Rotation of the scan against the reference in degrees (positive: counter-clockwise)."""
        return math.degrees(math.atan2(self.homography[1, 0], self.homography[0, 0]))

    @property
    def scale(self) -> float:
        return float(math.sqrt(abs(np.linalg.det(self.homography[:2, :2]))))


def features(grey: np.ndarray, side: int = WORK_SIDE) -> Features:
    """ORB features at a working scale of ``side`` px on the long side."""
    scale = side / max(grey.shape)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    keypoints, descriptors = _ORB.detectAndCompute(small, None)
    order = np.argsort([-k.response for k in keypoints], kind="stable")
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)[order]
    if descriptors is not None:
        descriptors = descriptors[order]
    return Features(points, descriptors, scale, small)


def _scaling(s: float) -> np.ndarray:
    return np.array([[s, 0, 0], [0, s, 0], [0, 0, 1]], dtype=np.float64)


def orb(scan: Features, reference: Features, min_inliers: int = MIN_INLIERS) -> Registration | None:
    """Homography by ORB + Lowe ratio + RANSAC, or None when fewer than ``min_inliers`` agree."""
    if scan.descriptors is None or reference.descriptors is None or len(scan.points) < 8:
        return None
    pairs = _MATCHER.knnMatch(scan.descriptors, reference.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < min_inliers:
        return None
    src = scan.points[[m.queryIdx for m in good]]
    dst = reference.points[[m.trainIdx for m in good]]
    # A similarity (rotation, one scale, shift): what a flatbed or sheet-fed scan does to a page.
    # A full homography has freedom enough to fit a wrong row-to-row match on forms whose rows
    # repeat (the CS printout's rules), landing a row off at the foot of an A4 page.
    similarity, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=2000, confidence=0.995
    )
    if similarity is None:
        return None
    small_h = np.vstack([similarity, [0.0, 0.0, 1.0]])
    inliers = int(mask.sum())
    if inliers < min_inliers:
        return None
    full = np.linalg.inv(_scaling(reference.scale)) @ small_h @ _scaling(scan.scale)
    return Registration(full, inliers, "orb")


def ecc(scan: Features, reference: Features, start: np.ndarray | None = None) -> Registration | None:
    """Affine ECC at half the working scale; None when it does not converge to a good correlation."""
    factor = 0.5
    ref_small = cv2.resize(reference.small, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    scan_small = cv2.resize(scan.small, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ref_small = cv2.GaussianBlur(ref_small, (5, 5), 0)
    scan_small = cv2.GaussianBlur(scan_small, (5, 5), 0)
    warp = np.eye(2, 3, dtype=np.float32)
    if start is not None:
        s_ref, s_scan = reference.scale * factor, scan.scale * factor
        guess = _scaling(s_ref) @ start @ np.linalg.inv(_scaling(s_scan))
        warp = np.linalg.inv(guess)[:2].astype(np.float32)  # ECC warps the reference to the scan
    criteria: tuple[int, int, float] = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    try:
        correlation, found = cv2.findTransformECC(ref_small, scan_small, warp, cv2.MOTION_AFFINE, criteria)
    except cv2.error:
        return None
    if correlation < 0.6:
        return None
    ref_to_scan = np.vstack([np.asarray(found), [0, 0, 1]]).astype(np.float64)
    s_ref, s_scan = reference.scale * factor, scan.scale * factor
    full = np.linalg.inv(_scaling(s_ref)) @ np.linalg.inv(ref_to_scan) @ _scaling(s_scan)
    return Registration(full, int(correlation * 100), "ecc")


def warp(rgb_or_grey: np.ndarray, registration: Registration, size: tuple[int, int]) -> np.ndarray:
    """The scan resampled into reference pixels (``size`` = width, height)."""
    return cv2.warpPerspective(
        rgb_or_grey, registration.homography, size, flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
