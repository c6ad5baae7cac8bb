"""The per-user cache folder of the OCR (parsed templates, ONNX Runtime's optimised models).

Never the current directory: a client started from the repository or from a shared folder must
not leave files there. ``MADOGUCHI_CACHE_DIR`` overrides the platform's folder (tests, kiosks with
a read-only home).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_CACHE_DIR = "MADOGUCHI_CACHE_DIR"


def user_cache_dir() -> Path:
    """Windows ``%LOCALAPPDATA%\\Madoguchi\\Cache``, macOS ``~/Library/Caches/Madoguchi``,
    elsewhere ``$XDG_CACHE_HOME/madoguchi`` (default ``~/.cache/madoguchi``)."""
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "Madoguchi" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "Madoguchi"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "madoguchi"
