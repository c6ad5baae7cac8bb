"""The one plugin registry used by every extension point (client devices, OCR engines, server
payment providers, notification channels, blob stores).

An extension point is a ``base.py`` contract subclassing :class:`Plugin`, a module-level
``Registry[ThatContract]`` and implementations registered with ``@registry.register``. Every
family has a ``fake`` (or ``sandbox``) implementation for tests and demo mode.

Plugins are looked up by a stable string id that is stored in settings and station profiles.
Registration is explicit: a registry lists the modules that hold its implementations
(``modules=``), and :meth:`Registry.load` imports them all, so a missing plugin fails loudly
instead of silently not registering.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from shared.errors import MadoguchiError


@dataclass(frozen=True)
class CheckResult:
    """What a plugin's :meth:`Plugin.check` found: usable or not, and why, in Japanese."""

    ok: bool
    message: str
    details: dict[str, str] = field(default_factory=dict)


class Plugin:
    """Base of every plugin contract."""

    #: Stable id stored in configuration; never rename.
    plugin_id: ClassVar[str] = ""
    #: Human label shown in the supervisor screens (Japanese).
    label: ClassVar[str] = ""
    #: True for fakes and sandboxes: the UI marks them so nobody mistakes demo data for real.
    is_fake: ClassVar[bool] = False

    def check(self) -> CheckResult:
        """Say whether the plugin is configured and its device or service reachable."""
        return CheckResult(ok=True, message="利用できます。")


class UnknownPlugin(MadoguchiError):
    code = "plugin.unknown"
    http_status = 500
    default_message = "指定されたプラグインが見つかりません。設定を確認してください。"


P = TypeVar("P", bound=Plugin)


class Registry(Generic[P]):
    """A named family of plugins implementing the contract ``P``."""

    def __init__(self, family: str, *, modules: Sequence[str] = ()) -> None:
        self.family = family
        self._modules = tuple(modules)
        self._plugins: dict[str, type[P]] = {}
        self._loaded = False

    def register(self, cls: type[P]) -> type[P]:
        """Class decorator: add an implementation under its ``plugin_id``."""
        if not cls.plugin_id:
            raise ValueError(f"{cls.__name__} has no plugin_id")
        existing = self._plugins.get(cls.plugin_id)
        if existing is not None and existing is not cls:
            raise ValueError(f"{self.family}: plugin id {cls.plugin_id!r} registered twice")
        self._plugins[cls.plugin_id] = cls
        return cls

    def load(self) -> None:
        """Import every module named at construction so that all implementations register."""
        if self._loaded:
            return
        for module in self._modules:
            importlib.import_module(module)
        self._loaded = True

    def get(self, plugin_id: str) -> type[P]:
        self.load()
        try:
            return self._plugins[plugin_id]
        except KeyError:
            raise UnknownPlugin(
                f"{self.family} のプラグイン「{plugin_id}」は登録されていません。"
                f"使えるもの: {', '.join(sorted(self._plugins)) or 'なし'}"
            ) from None

    def create(self, plugin_id: str, *args: object, **kwargs: object) -> P:
        """Instantiate the plugin ``plugin_id`` with its own settings."""
        factory: Callable[..., P] = self.get(plugin_id)
        return factory(*args, **kwargs)

    def ids(self) -> list[str]:
        self.load()
        return sorted(self._plugins)

    def __iter__(self) -> Iterator[type[P]]:
        self.load()
        return iter(self._plugins.values())

    def __contains__(self, plugin_id: object) -> bool:
        self.load()
        return plugin_id in self._plugins
