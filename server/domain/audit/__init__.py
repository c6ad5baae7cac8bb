"""Audit domain: the append-only, hash-chained log of who did what.

Use :func:`record` for every event; :func:`verify_chain` checks a municipality's chain.
"""

from server.domain.audit.service import SYSTEM, Actor, ChainReport, record, verify_chain

#: No HTTP routes yet (audit.read viewer comes with the supervisor screens).
route_handlers: list[object] = []

__all__ = ["SYSTEM", "Actor", "ChainReport", "record", "route_handlers", "verify_chain"]
