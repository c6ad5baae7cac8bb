"""Accounts domain: users, groups, permissions, login sessions, network allow-list.

Exports ``route_handlers`` for the app; services for the CLI and other domains.
"""

from server.domain.accounts.controllers import route_handlers

__all__ = ["route_handlers"]
