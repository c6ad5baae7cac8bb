"""The biometric reader contract."""

from __future__ import annotations

from typing import Any

from shared.plugins import Plugin


class BiometricReader(Plugin):
    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def verify(self, enrolled_template: bytes) -> bool:
        """Capture a sample and say whether it matches ``enrolled_template``."""
        raise NotImplementedError
