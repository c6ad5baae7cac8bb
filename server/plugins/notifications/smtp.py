"""SMTP transport (smtplib), with STARTTLS and login when configured."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from typing import TYPE_CHECKING

from server.plugins.notifications.base import MailTransport, TransportError, registry
from shared.plugins import CheckResult

if TYPE_CHECKING:
    from server.config import Settings


@registry.register
class SmtpTransport(MailTransport):
    plugin_id = "smtp"
    label = "SMTPサーバー"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise TransportError("宛先が拒否されました。", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"SMTP {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"接続できません ({type(exc).__name__})") from None

    def check(self) -> CheckResult:
        try:
            with socket.create_connection((self.host, self.port), timeout=3):
                pass
        except OSError:
            return CheckResult(False, f"SMTPサーバー {self.host}:{self.port} に接続できません。")
        return CheckResult(True, f"SMTPサーバー {self.host}:{self.port} に接続できます。")
