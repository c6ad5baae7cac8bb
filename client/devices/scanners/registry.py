"""Registry of scanner plugins; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import Scanner

registry: Registry[Scanner] = Registry(
    "scanner",
    modules=[
        "client.devices.scanners.fake",
        "client.devices.scanners.sane",
        "client.devices.scanners.folder",
    ],
)
