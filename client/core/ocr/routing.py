"""Which OCR engine reads which field type: a table as data (``routing.yaml`` next to this file),
chosen by the benchmark (``python -m bench.ocr.run --compare tesseract,ppocr`` prints the figures
and the table they suggest).

:class:`Engines` holds one loaded engine per id for the process and answers "which engine for
this zone type" and "which engine reads the issuer's printed name". Unknown engine ids in the
table are refused when the table is loaded, with a Japanese message naming the usable ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared.errors import InvalidInput
from shared.schemas.ocr_template import ZoneType

from .engines.base import OcrEngine
from .engines.registry import DEFAULT_ENGINE, registry

ROUTING_FILE = Path(__file__).with_name("routing.yaml")
#: The station profile's ``ocr_engine`` for "the engine per field type from routing.yaml".
ROUTED = "routed"


class RoutingError(InvalidInput):
    """The routing table names an engine or a field type that does not exist."""

    code = "ocr.routing"


@dataclass(frozen=True)
class Routing:
    """Field type → engine id; ``issuer`` reads the issuer anchor; ``default`` everything else."""

    default: str = DEFAULT_ENGINE
    issuer: str = DEFAULT_ENGINE
    types: Mapping[ZoneType, str] = field(default_factory=dict)

    def engine_for(self, kind: ZoneType) -> str:
        return self.types.get(kind, self.default)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], known: list[str] | None = None) -> Routing:
        """Validate ``data`` (the YAML's mapping) against the registered engines and field types."""
        known = registry.ids() if known is None else known
        default = str(data.get("default", DEFAULT_ENGINE))
        issuer = str(data.get("issuer", default))
        types: dict[ZoneType, str] = {}
        for name, engine_id in (data.get("types") or {}).items():
            try:
                kind = ZoneType(name)
            except ValueError:
                raise RoutingError(
                    f"OCRの振り分け表に未知の項目の種類「{name}」があります。"
                    f"使える種類: {', '.join(t.value for t in ZoneType)}",
                    code="ocr.unknown_field_type",
                ) from None
            types[kind] = str(engine_id)
        for where, engine_id in [("default", default), ("issuer", issuer)] + [
            (k.value, v) for k, v in types.items()
        ]:
            if engine_id not in known:
                raise RoutingError(
                    f"OCRの振り分け表の「{where}」に登録されていないOCRエンジン「{engine_id}」が"
                    f"指定されています。使えるエンジン: {', '.join(sorted(known))}。"
                    "振り分け表を直してください。",
                    code="ocr.unknown_engine",
                )
        return cls(default, issuer, types)


def load_routing(path: Path = ROUTING_FILE) -> Routing:
    """The routing table in ``path``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Routing.from_data(data)


class Engines:
    """The engines of one process, by id, created on first use and kept loaded."""

    def __init__(
        self,
        routing: Routing | None = None,
        create: Callable[[str], OcrEngine] = registry.create,
    ) -> None:
        self.routing = routing or load_routing()
        self._create = create
        self._engines: dict[str, OcrEngine] = {}

    @classmethod
    def single(cls, engine: OcrEngine) -> Engines:
        """Every field read by ``engine`` (tests, ``bench --engine``, a station forcing one engine)."""
        engines = cls(Routing(engine.plugin_id, engine.plugin_id), create=lambda _: engine)
        engines._engines[engine.plugin_id] = engine
        return engines

    def get(self, engine_id: str) -> OcrEngine:
        engine = self._engines.get(engine_id)
        if engine is None:
            engine = self._engines[engine_id] = self._create(engine_id)
        return engine

    def engine_ids(self) -> list[str]:
        """Every engine the table names (default, issuer and per type), each once."""
        ids = [self.routing.default, self.routing.issuer, *self.routing.types.values()]
        return list(dict.fromkeys(ids))

    def all(self) -> list[OcrEngine]:
        """Every engine the table names, loaded (for the station's device check)."""
        return [self.get(engine_id) for engine_id in self.engine_ids()]

    def others(self, kind: ZoneType) -> list[OcrEngine]:
        """The table's other engines, to read again a field whose reading failed validation."""
        first = self.routing.engine_for(kind)
        return [self.get(engine_id) for engine_id in self.engine_ids() if engine_id != first]

    def for_type(self, kind: ZoneType) -> OcrEngine:
        return self.get(self.routing.engine_for(kind))

    def for_issuer(self) -> OcrEngine:
        return self.get(self.routing.issuer)
