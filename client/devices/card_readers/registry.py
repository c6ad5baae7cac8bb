"""Registry of card reader plugins; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import CardReader

registry: Registry[CardReader] = Registry(
    "card_reader", modules=["client.devices.card_readers.fake", "client.devices.card_readers.pcsc"]
)
