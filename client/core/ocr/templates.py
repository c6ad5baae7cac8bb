"""The OCR templates of ``form_templates/ocr``, loaded once per process and grouped for
identification (document type → layout family → issuers).

Parsing and validating the ≈ 580 YAML files takes seconds, so the validated templates are kept in
a pickle in the user cache folder (:func:`client.core.ocr.cache.user_cache_dir`). Its key is a
hash of every file's path, size and modification time, the folder, the schema module and the
pydantic and Python versions: any change to a template (or to the code reading them) makes the
cache miss and the files are read again. A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pydantic
import yaml

from shared.schemas import ocr_template
from shared.schemas.ocr_template import OcrTemplate

from .cache import user_cache_dir

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
    def load(cls, root: Path = DEFAULT_ROOT, *, cache_dir: Path | bool | None = True) -> TemplateStore:
        """Every ``<doc_type>/<issuer>/<version>.yaml`` under ``root``. ``cache_dir``: ``True`` for the
        user cache folder, a folder, or ``False``/``None`` to read the files without a cache."""
        paths = sorted(root.glob("*/*/*.yaml"))
        folder = user_cache_dir() if cache_dir is True else cache_dir or None
        key = cache_key(root, paths)
        cached = _read_cache(folder, key) if folder is not None else None
        store = cls()
        if cached is not None:
            for template in cached:
                store.add(template)
            return store
        for path in paths:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506 - a safe loader
            template = OcrTemplate.model_validate(data)
            if template.reference.image is not None:
                template.reference.image = str(path.parent / template.reference.image)
            store.add(template)
        if folder is not None:
            _write_cache(folder, key, list(store.templates.values()))
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


CACHE_FILE = "ocr_templates.pickle"


def cache_key(root: Path, paths: list[Path]) -> str:
    """Hash of the files' paths, sizes and mtimes, the folder, the schema module and versions."""
    digest = hashlib.sha256()
    schema = Path(ocr_template.__file__)
    for part in (str(root.resolve()), sys.version, platform.python_implementation(), pydantic.VERSION):
        digest.update(part.encode() + b"\0")
    for path in [schema, *paths]:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _read_cache(folder: Path, key: str) -> list[OcrTemplate] | None:
    """The cached templates if the cache was written for exactly ``key``, else None."""
    try:
        with (folder / CACHE_FILE).open("rb") as file:
            stored_key, templates = pickle.load(file)  # noqa: S301 - the user's own cache folder
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return None
    if stored_key != key or not isinstance(templates, list):
        return None
    if not all(isinstance(t, OcrTemplate) for t in templates):
        return None
    return templates


def _write_cache(folder: Path, key: str, templates: list[OcrTemplate]) -> None:
    """Write atomically (a temporary file renamed over the old cache); failures are ignored."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{CACHE_FILE}.{os.getpid()}.tmp"
        with temporary.open("wb") as file:
            pickle.dump((key, templates), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / CACHE_FILE)
    except OSError:
        return


@cache
def default_store() -> TemplateStore:
    """The templates shipped in ``form_templates/ocr`` (once per process; cached across processes)."""
    return TemplateStore.load()
