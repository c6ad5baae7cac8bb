"""The OCR templates of ``form_templates/ocr``, loaded once per process and grouped for
identification (document type → layout family → issuers)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from shared.schemas.ocr_template import OcrTemplate

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "form_templates" / "ocr"
#: libyaml's safe loader when present (3× faster for the 580 files), else the pure-Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def family_key(template: OcrTemplate) -> str:
    """``doc_type:family`` of a template with a layout; its own id otherwise."""
    if template.layout is None:
        return template_id(template)
    return f"{template.doc_type.value}:{template.layout.family}"


def template_id(template: OcrTemplate) -> str:
    """``doc_type/issuer/version``: the template's stable id (its path without suffix)."""
    return f"{template.doc_type.value}/{template.issuer}/{template.version}"


@dataclass
class TemplateStore:
    """Every template, by id and by layout family."""

    templates: dict[str, OcrTemplate] = field(default_factory=dict)
    _families: dict[str, list[OcrTemplate]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, root: Path = DEFAULT_ROOT) -> TemplateStore:
        store = cls()
        for path in sorted(root.glob("*/*/*.yaml")):
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506 - a safe loader
            template = OcrTemplate.model_validate(data)
            if template.reference.image is not None:
                template.reference.image = str(path.parent / template.reference.image)
            store.add(template)
        return store

    def add(self, template: OcrTemplate) -> None:
        self.templates[template_id(template)] = template
        self._families = None

    def families(self) -> dict[str, list[OcrTemplate]]:
        """Templates grouped by layout family (a template without a layout is its own family)."""
        if self._families is None:
            groups: dict[str, list[OcrTemplate]] = defaultdict(list)
            for template in self.templates.values():
                groups[family_key(template)].append(template)
            self._families = dict(groups)
        return self._families

    def __len__(self) -> int:
        return len(self.templates)


@cache
def default_store() -> TemplateStore:
    """The templates shipped in ``form_templates/ocr`` (≈ 2 s to load 580 files; once per process)."""
    return TemplateStore.load()
