"""The mail-transport contract and its registry (one family of :class:`shared.plugins.Registry`)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING

from shared.errors import MadoguchiError
from shared.plugins import Plugin, Registry

if TYPE_CHECKING:
    from server.config import Settings


class TransportError(MadoguchiError):
    """Delivery failed. ``permanent``: retrying will not help (address refused)."""

    code = "mail.transport"
    http_status = 502
    default_message = "メールを送信できませんでした。"

    def __init__(self, message: str | None = None, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailTransport(Plugin):
    """Sends one message. Implementations: ``smtp``, ``memory`` (fake)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> MailTransport:
        """The transport configured by ``settings``."""
        raise NotImplementedError

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (blocking; the sender runs it in a worker thread) or raise TransportError."""
        raise NotImplementedError


registry: Registry[MailTransport] = Registry(
    "mail_transport",
    modules=("server.plugins.notifications.smtp", "server.plugins.notifications.memory"),
)


def open_transport(settings: Settings) -> MailTransport:
    """The transport named by ``settings.mail_transport``."""
    return registry.get(settings.mail_transport).from_settings(settings)
