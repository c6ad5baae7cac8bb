"""Mail transports: how a queued mail leaves the server (SMTP, or an in-memory fake for tests).

``open_transport(settings)`` builds the configured one (``MADOGUCHI_MAIL_TRANSPORT``).
"""

from __future__ import annotations

from server.plugins.notifications.base import MailTransport, TransportError, open_transport, registry

__all__ = ["MailTransport", "TransportError", "open_transport", "registry"]
