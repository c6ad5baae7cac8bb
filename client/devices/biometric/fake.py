"""Fake biometric reader: matches when the template is the configured one."""

from __future__ import annotations

from typing import Any

from shared.plugins import CheckResult

from .base import BiometricReader
from .registry import registry


@registry.register
class FakeBiometricReader(BiometricReader):
    """Settings: ``accept`` (the template bytes as text that match; default ``demo``)."""

    plugin_id = "fake"
    label = "テスト用生体認証装置"
    is_fake = True

    def __init__(self, accept: str = "demo", **settings: Any) -> None:
        super().__init__(**settings)
        self.accept = accept.encode()

    def verify(self, enrolled_template: bytes) -> bool:
        return enrolled_template == self.accept

    def check(self) -> CheckResult:
        return CheckResult(True, "テスト用生体認証装置です。")
