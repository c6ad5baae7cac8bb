"""Validate the data folders: ``python -m shared.schemas.check form_templates device_profiles``.

Each argument is a data root (``form_templates``, ``device_profiles``) or a folder or file inside
one. The schema is chosen by folder (see :mod:`shared.schemas.registry`). Every ``.yaml``, ``.yml``
and ``.json`` file is validated; for each bad file one Japanese line per error is printed, with the
file path and the location in the file. Also checked: the ``id`` (or ``slug`` / ``version``) equals
the file name, a device profile's ``family`` matches its folder, and an OCR template's ``doc_type``
and ``issuer`` match its folders. Exit status 0 with a count when all files are valid, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shared.errors import describe_validation_errors
from shared.schemas.registry import FOLDERS, FolderSchema
from shared.yamlfile import load_yaml

DATA_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Problem:
    path: Path
    location: str
    message: str

    def __str__(self) -> str:
        where = f" [{self.location}]" if self.location else ""
        return f"{self.path}{where}: {self.message}"


@dataclass
class Report:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def schema_for(path: Path) -> tuple[FolderSchema, tuple[str, ...]] | None:
    """The folder schema of a data file and the folder names between the schema folder and the file."""
    parts = path.resolve().parts
    for i in range(len(parts) - 2, 0, -1):
        for schema in FOLDERS:
            if parts[i - 1] == schema.root and parts[i] == schema.folder:
                return schema, tuple(parts[i + 1 : -1])
    return None


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return load_yaml(text)


def check_file(path: Path) -> list[Problem]:
    """The problems of one data file (empty when it is valid)."""
    found = schema_for(path)
    if found is None:
        return [
            Problem(path, "", "どのスキーマで検査するフォルダか分かりません。置き場所を確認してください。")
        ]
    schema, subfolders = found
    if len(subfolders) != schema.depth - 1:
        expected = (
            "ocr/<文書種別>/<発行元>/<版>.yaml" if schema.folder == "ocr" else f"{schema.folder}/<名前>.yaml"
        )
        return [Problem(path, "", f"ファイルの置き場所が正しくありません。{expected} に置いてください。")]
    try:
        data = _load(path)
    except UnicodeDecodeError:
        return [Problem(path, "", "文字コードがUTF-8ではありません。")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}行目" if mark is not None else ""
        return [Problem(path, where, "YAMLの形式が正しくありません。")]
    except json.JSONDecodeError as exc:
        return [Problem(path, f"{exc.lineno}行目", "JSONの形式が正しくありません。")]
    if not isinstance(data, dict):
        return [Problem(path, "", "ファイルの中身は項目のまとまり（マッピング）にしてください。")]
    try:
        model = schema.model.model_validate(data)
    except ValidationError as exc:
        return [
            Problem(path, d["field"], f"{d['message']} ({d['code']})")
            for d in describe_validation_errors(exc.errors())
        ]
    problems: list[Problem] = []
    if schema.id_field is not None:
        value = getattr(model, schema.id_field)
        if value != path.stem:
            problems.append(
                Problem(
                    path,
                    schema.id_field,
                    f"{schema.id_field}「{value}」がファイル名「{path.stem}」と一致しません。",
                )
            )
    if schema.family is not None and getattr(model, "family", None) != schema.family:
        problems.append(
            Problem(path, "family", f"family はこのフォルダでは「{schema.family}」にしてください。")
        )
    if schema.folder == "ocr":
        doc_type, issuer = subfolders
        if str(getattr(model, "doc_type", "")) != doc_type:
            problems.append(Problem(path, "doc_type", f"doc_type がフォルダ名「{doc_type}」と一致しません。"))
        if getattr(model, "issuer", None) != issuer:
            problems.append(Problem(path, "issuer", f"issuer がフォルダ名「{issuer}」と一致しません。"))
    return problems


def iter_data_files(paths: Iterable[Path]) -> Iterable[Path]:
    for root in paths:
        if root.is_file():
            yield root
            continue
        for p in sorted(root.rglob("*")):
            hidden = any(s.startswith(".") for s in p.relative_to(root).parts)
            if p.is_file() and p.suffix in DATA_SUFFIXES and not hidden:
                yield p


def check_paths(paths: Iterable[Path]) -> Report:
    """Validate every data file under ``paths``."""
    report = Report()
    for path in iter_data_files(paths):
        report.checked += 1
        report.problems.extend(check_file(path))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("使い方: python -m shared.schemas.check form_templates device_profiles", file=sys.stderr)
        return 2
    missing = [a for a in args if not Path(a).exists()]
    if missing:
        for a in missing:
            print(f"{a}: フォルダまたはファイルがありません。", file=sys.stderr)
        return 1
    report = check_paths(Path(a) for a in args)
    for problem in report.problems:
        print(problem)
    bad_files = len({p.path for p in report.problems})
    if report.ok:
        print(f"{report.checked}件のファイルを検査しました。すべて正しい形式です。")
        return 0
    print(f"{report.checked}件中{bad_files}件のファイルに誤りがあります。", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
