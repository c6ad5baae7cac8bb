"""Qt signal bridge for the Qt-free sync worker: its events arrive on the UI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from client.core.sync import SyncEvent, SyncWorker


class SyncBridge(QObject):
    """Subscribes to a :class:`SyncWorker`; re-emits events as ``sync_event``, queued to the UI thread."""

    sync_event = Signal(object)

    def __init__(self, worker: SyncWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        worker.subscribe(self._on_worker_event)

    def _on_worker_event(self, event: SyncEvent) -> None:  # called on the worker thread
        self.sync_event.emit(event)
