"""A template being made from a sample scan (the supervisor's template designer, Qt-free).

Spec 000 ⑪: a changed 転出証明書 is put into service by opening a sample, drawing and naming the
zones, choosing their types, marking the issuer's printed name as an anchor, test-reading the
sample, and saving it as a new template or a new version. The sample image is stored next to the
YAML file (``reference.image``) and becomes the template's reference image.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from shared.schemas.ocr_template import (
    Anchor,
    Box,
    DocumentType,
    OcrTemplate,
    ReadingSettings,
    ReferenceImage,
    Zone,
    ZoneType,
)

from . import image
from .engines.base import OcrEngine


@dataclass
class DraftZone:
    field: str
    label: str
    type: ZoneType
    box: Box
    path: str | None = None  # where it goes in the 異動届
    anchor_text: str | None = None  # set: this box is a text anchor, not a field


@dataclass
class TemplateDraft:
    doc_type: DocumentType = DocumentType.move_out_certificate
    issuer: str = "082104"
    version: str = "v1"
    label: str = ""
    valid_from: date = field(default_factory=date.today)
    sample: Path | None = None
    zones: list[DraftZone] = field(default_factory=list)
    _pixels: np.ndarray | None = None

    def open_sample(self, path: Path) -> None:
        self._pixels = image.load(path)
        self.sample = path

    @property
    def size(self) -> tuple[int, int]:
        if self._pixels is None:
            raise ValueError("no sample")
        return self._pixels.shape[1], self._pixels.shape[0]

    def add_zone(self, name: str, label: str, kind: ZoneType, x: int, y: int, w: int, h: int) -> DraftZone:
        zone = DraftZone(name, label, kind, Box(x=x, y=y, width=w, height=h))
        self.zones.append(zone)
        return zone

    def to_template(self) -> OcrTemplate:
        """Validate the draft as a template (raises pydantic's ValidationError with Japanese text)."""
        width, height = self.size
        return OcrTemplate(
            doc_type=self.doc_type,
            issuer=self.issuer,
            version=self.version,
            label=self.label or self.version,
            valid_from=self.valid_from,
            reference=ReferenceImage(
                width=width, height=height, image=self.sample.name if self.sample else None
            ),
            anchors=[
                Anchor(name=z.field, kind="text", box=z.box, text=z.anchor_text)
                for z in self.zones
                if z.anchor_text
            ],
            zones=[
                Zone(field=z.field, label=z.label, type=z.type, box=z.box, reading=ReadingSettings(psm=7))
                for z in self.zones
                if not z.anchor_text
            ],
            mapping={z.field: z.path for z in self.zones if z.path and not z.anchor_text},
        )

    def save(self, root: Path) -> Path:
        """Write ``root/<doc_type>/<issuer>/<version>.yaml`` and the sample beside it."""
        template = self.to_template()
        folder = root / template.doc_type.value / template.issuer
        folder.mkdir(parents=True, exist_ok=True)
        if self.sample is not None and self.sample.parent.resolve() != folder.resolve():
            shutil.copyfile(self.sample, folder / self.sample.name)
        path = folder / f"{template.version}.yaml"
        data = template.model_dump(mode="json", exclude_defaults=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> TemplateDraft:
        template = OcrTemplate.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        draft = cls(template.doc_type, template.issuer, template.version, template.label, template.valid_from)
        if template.reference.image:
            draft.open_sample(path.parent / template.reference.image)
        for a in template.anchors:
            draft.zones.append(DraftZone(a.name, a.name, ZoneType.text, a.box, anchor_text=a.text))
        for z in template.zones:
            draft.zones.append(
                DraftZone(z.field, z.label or z.field, z.type, z.box, template.mapping.get(z.field))
            )
        return draft

    def test_read(self, engine: OcrEngine) -> dict[str, tuple[str, str | None]]:
        """Read every field zone of the sample itself: field → (text, problem)."""
        from .pipeline import read_zone

        if self._pixels is None:
            raise ValueError("no sample")
        template = self.to_template()
        return {
            zone.field: ((r := read_zone(self._pixels, zone, engine)).text, r.problem)
            for zone in template.zones
        }
