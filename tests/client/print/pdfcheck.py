"""Read printed PDFs back with poppler (pdffonts, pdftotext, pdftoppm) and pypdf."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image


def pdffonts(path: Path) -> list[dict[str, str]]:
    """One dict per font: name, type, emb, sub, uni."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type [type2] encoding emb sub uni object gen
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def pdftotext(path: Path, *, page: int | None = None, raw: bool = False) -> str:
    """The text of ``path``; ``raw`` keeps the order of the content stream (one field = one run)."""
    args = ["pdftotext", "-enc", "UTF-8", *(["-raw"] if raw else [])]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def pdftoppm(path: Path, out_prefix: Path, *, dpi: int = 100, page: int = 1) -> Path:
    """Page ``page`` as a PNG; returns its path."""
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            str(out_prefix),
        ],
        check=True,
    )
    return out_prefix.with_suffix(".png")


def ink_box(image: Image.Image) -> Image.Image:
    """The image cropped to its ink, greyscale."""
    grey = image.convert("L")
    box = Image.eval(grey, lambda v: 255 - v).getbbox()
    return grey.crop(box) if box else grey
