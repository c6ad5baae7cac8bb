"""In-memory fake transport: keeps sent messages in a list (tests and demo without SMTP)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING, ClassVar

from server.plugins.notifications.base import MailTransport, registry

if TYPE_CHECKING:
    from server.config import Settings


@registry.register
class MemoryTransport(MailTransport):
    plugin_id = "memory"
    label = "メモリ (テスト用)"
    is_fake = True
    #: Every message sent through any instance, newest last.
    sent: ClassVar[list[EmailMessage]] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> MemoryTransport:
        return cls()

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
