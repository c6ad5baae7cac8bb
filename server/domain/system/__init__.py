"""System domain: health check."""

from server.domain.system.controllers import route_handlers

__all__ = ["route_handlers"]
