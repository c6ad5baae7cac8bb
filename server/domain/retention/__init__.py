"""Retention domain (保存期限と削除): purge jobs that delete expired receptions and their documents
and keep a deletion record. No HTTP routes yet; the CLI runs it (``madoguchi-server purge``)."""

from __future__ import annotations

route_handlers: list[object] = []
