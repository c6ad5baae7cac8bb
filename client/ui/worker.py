"""Long work off the UI thread: run a function in the Qt thread pool, get result or error back.

``run_in_background(fn, *args, on_result=…, on_error=…)`` runs ``fn`` on a pool thread; the two
callbacks are called on the UI thread. Errors are never lost: :func:`error_text` turns any
exception into a Japanese message for the screen (and logs unexpected ones with traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from shared.errors import MadoguchiError

log = logging.getLogger(__name__)
_running: set[_Task] = set()


def error_text(exc: BaseException) -> str:
    """The Japanese message the user sees for ``exc``."""
    if isinstance(exc, MadoguchiError):
        return exc.message
    log.error("unexpected error in background task", exc_info=exc)
    return f"予期しないエラーが発生しました（{type(exc).__name__}）。ログを確認し、管理者に連絡してください。"


class _Relay(QObject):
    """Lives on the UI thread; signals emitted from the pool are delivered here (queued)."""

    result = Signal(object)
    error = Signal(object)

    def __init__(self, task: _Task) -> None:
        super().__init__()
        self._task = task
        self.result.connect(self._on_result)
        self.error.connect(self._on_error)

    @Slot(object)
    def _on_result(self, value: object) -> None:
        try:
            if self._task.on_result is not None:
                self._task.on_result(value)
        finally:
            _running.discard(self._task)

    @Slot(object)
    def _on_error(self, exc: object) -> None:
        try:
            if self._task.on_error is not None:
                self._task.on_error(exc if isinstance(exc, BaseException) else RuntimeError(str(exc)))
            else:
                error_text(exc if isinstance(exc, BaseException) else RuntimeError(str(exc)))
        finally:
            _running.discard(self._task)


class _Task(QRunnable):
    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.on_result, self.on_error = on_result, on_error
        self.relay = _Relay(self)

    def run(self) -> None:
        try:
            value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:
            self.relay.error.emit(exc)
        else:
            self.relay.result.emit(value)


def run_in_background(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    **kwargs: Any,
) -> None:
    """Run ``fn(*args, **kwargs)`` on the global thread pool; callbacks run on the UI thread."""
    task = _Task(fn, args, kwargs, on_result, on_error)
    _running.add(task)
    QThreadPool.globalInstance().start(task)


def wait_for_background(timeout_ms: int = 30000) -> bool:
    """Block until the pool is idle (for shutdown and tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
