"""Bounded contexts. Each sub-package exports ``route_handlers``; the app finds them by walking
this package, so adding a domain never means editing a central list."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def discover_route_handlers() -> list[Any]:
    """The ``route_handlers`` of every domain package, in name order."""
    handlers: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        handlers.extend(getattr(module, "route_handlers", []))
    return handlers
