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
        # The OS printer through Qt (qt, windows-spooler): in client/ui, where Qt may be used; the
        # module imports Qt only when a job is printed, so loading this registry stays Qt-free.
        "client.ui.qt_print",
    ],
)
