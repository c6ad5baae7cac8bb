"""Data-folder schemas and the checker ``python -m shared.schemas.check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.models import MovementNotice
from shared.schemas.check import check_paths, main
from shared.schemas.export import JSON_DIR, render
from shared.schemas.paths import check_model_path

REPO = Path(__file__).resolve().parents[2]

OCR = {
    "doc_type": "move_out_certificate",
    "issuer": "082104",
    "version": "v1",
    "label": "転出証明書（合成サンプル）",
    "valid_from": "2024-01-01",
    "synthetic": True,
    "reference": {"width": 2480, "height": 3508, "dpi": 300},
    "anchors": [
        {
            "name": "title",
            "kind": "text",
            "box": {"x": 900, "y": 100, "width": 700, "height": 120},
            "text": "転出証明書",
        }
    ],
    "zones": [
        {
            "field": "family_name",
            "label": "氏",
            "type": "name",
            "box": {"x": 300, "y": 600, "width": 500, "height": 100},
        },
        {
            "field": "birth_date",
            "type": "date",
            "box": {"x": 900, "y": 600, "width": 600, "height": 100},
            "reading": {"psm": 7, "whitelist": "明大昭平令元年月日0123456789"},
        },
        {
            "field": "my_number",
            "type": "my_number",
            "box": {"x": 300, "y": 800, "width": 800, "height": 100},
            "reading": {"language": "digits"},
        },
    ],
    "mapping": {
        "family_name": "persons[].family_name",
        "birth_date": "persons[].birth_date",
        "my_number": "persons[0].my_number",
    },
}

PRINT = {
    "id": "receipt",
    "label": "受付票",
    "paper": "B5",
    "orientation": "landscape",
    "fields": [
        {"name": "title", "text": "受付票", "x_mm": 10, "y_mm": 10, "width_mm": 100, "height_mm": 10},
        {"name": "kind", "source": "kind", "x_mm": 10, "y_mm": 30, "width_mm": 50, "height_mm": 8},
    ],
}

EFORM = {
    "slug": "dog-registration",
    "title": "犬の登録",
    "fields": [
        {"name": "owner", "label": "飼い主氏名", "type": "text", "required": True},
        {"name": "kind", "label": "種類", "type": "radio", "options": [{"value": "a", "label": "小型犬"}]},
    ],
}

DEVICE = {"id": "fake", "family": "scanner", "label": "疑似スキャナー", "plugin": "fake"}
STATION = {
    "id": "kiosk",
    "label": "キオスク",
    "modes": ["kiosk"],
    "default_mode": "kiosk",
    "full_screen": True,
}


def write(root: Path, rel: str, data: object, *, as_json: bool = False) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False) if as_json else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good_tree(tmp_path: Path) -> Path:
    write(tmp_path, "form_templates/ocr/move_out_certificate/082104/v1.yaml", OCR)
    write(tmp_path, "form_templates/print/receipt.yaml", PRINT)
    write(tmp_path, "form_templates/eforms/dog-registration.json", EFORM, as_json=True)
    write(tmp_path, "device_profiles/scanners/fake.yaml", DEVICE)
    write(tmp_path, "device_profiles/stations/kiosk.yaml", STATION)
    (tmp_path / "form_templates" / "README.md").write_text("not data", encoding="utf-8")
    return tmp_path


def test_good_tree_passes(good_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder of valid files passes: exit 0 and a count of the files checked."""
    code = main([str(good_tree / "form_templates"), str(good_tree / "device_profiles")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "5件" in out


def test_repository_data_folders_pass() -> None:
    """The committed form_templates/ and device_profiles/ (with station files) are valid."""
    report = check_paths([REPO / "form_templates", REPO / "device_profiles"])
    assert report.ok, "\n".join(map(str, report.problems))
    assert report.checked >= 5


BROKEN: list[tuple[str, object, str]] = [
    ("form_templates/print/receipt.yaml", {**PRINT, "paper": "A5"}, "paper"),
    ("form_templates/print/other.yaml", PRINT, "id「receipt」がファイル名「other」と一致しません"),
    ("form_templates/print/receipt.yaml", {**PRINT, "colour": "red"}, "この項目は指定できません"),
    (
        "form_templates/print/receipt.yaml",
        {**PRINT, "fields": [{**PRINT["fields"][1], "x_mm": 250}]},  # type: ignore[index]
        "用紙の外",
    ),
    (
        "form_templates/print/receipt.yaml",
        {**PRINT, "fields": [{**PRINT["fields"][1], "source": "persons.family_name"}]},  # type: ignore[index]
        "一覧です",
    ),
    ("form_templates/ocr/move_out_certificate/082104/v1.yaml", {**OCR, "issuer": "082105"}, "検査数字"),
    ("form_templates/ocr/residence_card/082104/v1.yaml", OCR, "doc_type がフォルダ名"),
    ("form_templates/ocr/move_out_certificate/v1.yaml", OCR, "置き場所"),
    (
        "form_templates/ocr/move_out_certificate/082104/v1.yaml",
        {**OCR, "mapping": {"family_name": "persons[].surname"}},
        "surname",
    ),
    (
        "form_templates/ocr/move_out_certificate/082104/v1.yaml",
        {**OCR, "zones": [*OCR["zones"], OCR["zones"][0]]},  # type: ignore[list-item]
        "重複",
    ),
    (
        "form_templates/ocr/move_out_certificate/082104/v1.yaml",
        {**OCR, "valid_to": "2023-01-01"},
        "valid_to",
    ),
    ("form_templates/eforms/dog-registration.yaml", {**EFORM, "fields": []}, "1件以上"),
    (
        "form_templates/eforms/dog-registration.yaml",
        {**EFORM, "fields": [{"name": "k", "label": "種類", "type": "select"}]},
        "options",
    ),
    ("device_profiles/printers/fake.yaml", DEVICE, "family はこのフォルダでは「printer」"),
    ("device_profiles/scanners/fake.yaml", {**DEVICE, "label": None}, "文字で入力"),
    ("device_profiles/stations/kiosk.yaml", {**STATION, "modes": ["tablet"]}, "選択肢"),
    (
        "device_profiles/stations/kiosk.yaml",
        {k: v for k, v in STATION.items() if k != "label"},
        "入力してください",
    ),
    ("device_profiles/stations/counter.yaml", STATION, "ファイル名「counter」"),
    ("form_templates/misc/thing.yaml", PRINT, "スキーマ"),
]


@pytest.mark.parametrize(("rel", "data", "expected"), BROKEN)
def test_broken_file_reported(
    tmp_path: Path, rel: str, data: object, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each deliberately broken file fails with exit 1 and a Japanese line naming the file."""
    path = write(tmp_path, rel, data)
    assert main([str(tmp_path / rel.split("/")[0])]) == 1
    out = capsys.readouterr().out
    assert str(path) in out
    assert expected in out, out


def test_unparsable_yaml_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A YAML syntax error is reported with its line, not a traceback."""
    path = tmp_path / "device_profiles" / "scanners" / "bad.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("id: bad\nlabel: [unclosed\n", encoding="utf-8")
    assert main([str(tmp_path / "device_profiles")]) == 1
    assert "YAMLの形式が正しくありません" in capsys.readouterr().out


def test_missing_folder_and_no_args(tmp_path: Path) -> None:
    """A missing folder is an error (exit 1), no arguments prints usage (exit 2)."""
    assert main([str(tmp_path / "nope")]) == 1
    assert main([]) == 2


def test_command_line(good_tree: Path) -> None:
    """``python -m shared.schemas.check`` runs as a module and exits 1 on a bad file."""
    cmd = [sys.executable, "-m", "shared.schemas.check", str(good_tree / "form_templates")]
    assert subprocess.run(cmd, capture_output=True, cwd=REPO, check=False).returncode == 0
    write(good_tree, "form_templates/print/receipt.yaml", {**PRINT, "paper": "A0"})
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 1
    assert "receipt.yaml" in result.stdout


def test_json_schemas_up_to_date() -> None:
    """The committed JSON Schema files equal what ``python -m shared.schemas.export`` writes."""
    rendered = render()
    committed = {p.name for p in JSON_DIR.glob("*.schema.json")}
    assert committed == set(rendered), "run: python -m shared.schemas.export"
    for name, text in rendered.items():
        assert (JSON_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: python -m shared.schemas.export"
        )


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("notified_on", True),
        ("persons[].family_name", True),
        ("persons[2].insurance.national_pension", True),
        ("new_address.lg_code", True),
        ("persons.family_name", False),
        ("notified_on.year", False),
        ("kind[]", False),
        ("persons[].nickname", False),
        ("Persons", False),
    ],
)
def test_model_paths(path: str, ok: bool) -> None:
    """Template paths are checked against the 異動届 model's fields."""
    reason = check_model_path(MovementNotice, path)
    assert (reason is None) == ok, reason


def test_checker_under_a_hidden_parent_folder(tmp_path: Path) -> None:
    """Files are found even when the checkout lies below a dot-folder; dot-files inside are skipped."""
    root = tmp_path / ".cache" / "checkout"
    write(root, "device_profiles/scanners/fake.yaml", DEVICE)
    write(root, "device_profiles/scanners/.draft/broken.yaml", {"id": 1})
    report = check_paths([root / "device_profiles"])
    assert (report.checked, report.ok) == (1, True)
