"""The printer contract: the client renders PDFs itself; a printer only prints them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.plugins import Plugin


@dataclass(frozen=True)
class PrintJob:
    """What the printer accepted: an id and, for file-based printers, where the file went."""

    job_id: str
    location: str | None = None


class Printer(Plugin):
    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        raise NotImplementedError
