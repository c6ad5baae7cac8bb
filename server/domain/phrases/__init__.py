"""Phrases domain (語句登録): a clerk's own phrases and the municipality's shared list, inserted into
the counter's fields by shortcut (contract: :mod:`shared.api_counter`)."""

from __future__ import annotations

from typing import Any

__all__ = ["route_handlers"]


def __getattr__(name: str) -> Any:
    if name == "route_handlers":
        from server.domain.phrases.controllers import route_handlers

        return route_handlers
    raise AttributeError(name)
