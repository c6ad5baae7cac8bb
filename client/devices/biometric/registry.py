"""Registry of biometric reader plugins; lists every module holding an implementation."""

from __future__ import annotations

from shared.plugins import Registry

from .base import BiometricReader

registry: Registry[BiometricReader] = Registry("biometric", modules=["client.devices.biometric.fake"])
