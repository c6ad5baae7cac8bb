"""Receptions domain (窓口受付): submitted 住民異動届 with 受付番号, idempotent on client_key."""

from server.domain.receptions.controllers import route_handlers

__all__ = ["route_handlers"]
