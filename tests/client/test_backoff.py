"""Backoff of the sync worker."""

from __future__ import annotations

import random

from client.core.sync import Backoff


def test_backoff_grows_and_is_capped() -> None:
    """Delays stay within [floor, min(cap, base·2^(n−1))] and never exceed the cap."""
    b = Backoff(base=1.0, cap=30.0, floor=0.1)
    rng = random.Random(7)
    for attempts in range(1, 20):
        ceiling = min(30.0, 2 ** (attempts - 1))
        for _ in range(50):
            d = b.delay(attempts, rng)
            assert 0.1 <= d <= max(0.1, ceiling)
    assert max(b.delay(30, rng) for _ in range(200)) > 15  # the cap is reachable, jitter spreads


def test_backoff_has_jitter() -> None:
    """Two workers failing at the same moment do not retry in lockstep."""
    b = Backoff(base=8.0, cap=300.0)
    rng = random.Random(1)
    assert len({round(b.delay(3, rng), 3) for _ in range(20)}) > 10
