"""法人番号 lookups: the 国税庁 法人番号システム Web-API (``nta``) and a ``sandbox`` for the demo."""

from __future__ import annotations

from server.plugins.corporate.base import CorporateLookup, Corporation, LookupUnavailable, registry

__all__ = ["CorporateLookup", "Corporation", "LookupUnavailable", "registry"]
