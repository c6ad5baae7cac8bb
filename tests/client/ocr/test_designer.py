"""The template designer: a template made from a sample is saved, loaded back and reads the sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from client.core.ocr.draft import TemplateDraft
from client.core.ocr.engines.base import OcrEngine
from client.core.ocr.render import render
from client.core.ocr.templates import TemplateStore
from shared.schemas.ocr_template import ZoneType

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed (as noxfile's ui session)

SHIMOTSUMA = "move_out_certificate/082104/2021-01"
NAME = "下妻　花子"


@pytest.fixture
def sample(store: TemplateStore, tmp_path: Path) -> Path:
    """A filled 転出証明書 page saved as the supervisor's sample scan."""
    template = store.templates[SHIMOTSUMA]
    path = tmp_path / "sample.png"
    Image.fromarray(render(template, {"name": NAME}, security_pattern=True)).save(path)
    return path


def _draft(store: TemplateStore, sample: Path) -> TemplateDraft:
    shipped = store.templates[SHIMOTSUMA]
    name_box = next(z for z in shipped.zones if z.field == "name").box
    issuer = next(a for a in shipped.anchors if a.name == "issuer")
    draft = TemplateDraft(issuer="082104", version="2026-01", label="転出証明書（見本から作成）")
    draft.open_sample(sample)
    zone = draft.add_zone(
        "name", "氏名", ZoneType.name, name_box.x, name_box.y, name_box.width, name_box.height
    )
    zone.path = "persons[0].family_name"
    anchor = draft.add_zone(
        "issuer", "発行者", ZoneType.text, issuer.box.x, issuer.box.y, issuer.box.width, issuer.box.height
    )
    anchor.anchor_text = issuer.text
    return draft


def test_draft_save_load_round_trip(store: TemplateStore, sample: Path, tmp_path: Path) -> None:
    """Saving writes a schema-valid YAML and the sample beside it; loading gives back the same template."""
    draft = _draft(store, sample)
    path = draft.save(tmp_path / "ocr")
    assert path == tmp_path / "ocr/move_out_certificate/082104/2026-01.yaml"
    assert (path.parent / "sample.png").is_file()
    again = TemplateDraft.load(path)
    assert again.to_template() == draft.to_template()
    loaded = TemplateStore.load(tmp_path / "ocr")
    template = loaded.templates["move_out_certificate/082104/2026-01"]
    assert template.reference.image and Path(template.reference.image).is_file()


def test_draft_test_read(store: TemplateStore, sample: Path, engine: OcrEngine) -> None:
    """Test-reading the sample shows each field's text as the pipeline would read it."""
    reads = _draft(store, sample).test_read(engine)
    assert reads["name"] == (NAME, None)


@pytest.mark.ui
def test_designer_widget_round_trip(
    qtbot: object, store: TemplateStore, sample: Path, tmp_path: Path
) -> None:
    """In the widget: open a sample, drag a zone, name and type it, save, and reopen it in a new designer."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QRectF
    from PySide6.QtWidgets import QComboBox, QTableWidgetItem

    from client.ui.supervisor.designer import TemplateDesigner

    designer = TemplateDesigner(root=tmp_path / "ocr")
    qtbot.addWidget(designer)  # type: ignore[attr-defined]
    designer.open_sample(sample)
    box = next(z for z in store.templates[SHIMOTSUMA].zones if z.field == "name").box
    designer.canvas.drawn.emit(QRectF(box.x, box.y, box.width, box.height))
    designer.table.setItem(0, 0, QTableWidgetItem("name"))
    designer.table.setItem(0, 4, QTableWidgetItem("persons[0].family_name"))
    kinds = designer.table.cellWidget(0, 2)
    assert isinstance(kinds, QComboBox)
    kinds.setCurrentIndex(kinds.findData(ZoneType.name))
    designer.version.setText("2026-02")
    path = designer.save()
    assert path is not None and path.is_file(), designer.message.text()

    reopened = TemplateDesigner(root=tmp_path / "ocr")
    qtbot.addWidget(reopened)  # type: ignore[attr-defined]
    reopened.open_template(path)
    assert reopened.version.text() == "2026-02"
    first = reopened.table.item(0, 0)
    assert first is not None and first.text() == "name"
    assert reopened.draft.to_template() == designer.draft.to_template()


@pytest.mark.ui
def test_designer_shows_validation_errors(qtbot: object, sample: Path, tmp_path: Path) -> None:
    """Saving with a bad issuer code shows the schema's Japanese message instead of writing a file."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QRectF

    from client.ui.supervisor.designer import TemplateDesigner

    designer = TemplateDesigner(root=tmp_path / "ocr")
    qtbot.addWidget(designer)  # type: ignore[attr-defined]
    designer.open_sample(sample)
    designer.canvas.drawn.emit(QRectF(100, 100, 300, 60))
    designer.issuer.setText("082105")  # wrong check digit
    assert designer.save() is None
    assert "検査数字" in designer.message.text()
    assert not (tmp_path / "ocr").exists()
