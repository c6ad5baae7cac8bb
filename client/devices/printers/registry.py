"""Registry of printer plugins; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import Printer

registry: Registry[Printer] = Registry(
    "printer",
    modules=[
        "client.devices.printers.fake",
        "client.devices.printers.pdf_file",
        "client.devices.printers.cups",
        "client.devices.printers.stubs",
    ],
)
