"""Audit domain: the append-only, hash-chained log of who did what.

Use :func:`record` for every event (in the caller's transaction); :func:`record_committed` for
events of reading, which share commits with concurrent ones; :func:`verify_chain` checks a
municipality's chain. :func:`lock_statement`, :func:`append_statement` and :func:`appended` are
:func:`record` for a pipelined transaction's last round trips (PostgreSQL; the eform submission).
"""

from server.domain.audit.service import (
    SYSTEM,
    Actor,
    ChainReport,
    Event,
    append_statement,
    appended,
    lock_statement,
    record,
    record_committed,
    record_many,
    verify_chain,
)

#: No HTTP routes yet (audit.read viewer comes with the supervisor screens).
route_handlers: list[object] = []

__all__ = [
    "SYSTEM",
    "Actor",
    "ChainReport",
    "Event",
    "append_statement",
    "appended",
    "lock_statement",
    "record",
    "record_committed",
    "record_many",
    "route_handlers",
    "verify_chain",
]
