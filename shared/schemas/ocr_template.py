"""Schema of ``form_templates/ocr/<doc_type>/<issuer>/<version>.yaml`` (OCR templates)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from shared.errors import invalid
from shared.schemas._common import FIELD_NAME, SLUG, _check_path, _Data
from shared.text.checkdigit import lg_code_check_digit


class DocumentType(StrEnum):
    """The documents the counter reads."""

    move_out_certificate = "move_out_certificate"  # 転出証明書
    move_out_certificate_equivalent = "move_out_certificate_equivalent"  # 転出証明書に準ずる証明書
    move_out_certificate_info = "move_out_certificate_info"  # 転出証明書情報 (特例転入, CS printout)
    residence_card = "residence_card"  # 在留カード
    special_permanent_resident_certificate = "special_permanent_resident_certificate"  # 特別永住者証明書
    my_number_card = "my_number_card"  # マイナンバーカード (表面)
    drivers_license = "drivers_license"  # 運転免許証
    koseki_certificate = "koseki_certificate"  # 戸籍全部事項証明書
    fuhyo_copy = "fuhyo_copy"  # 戸籍の附票の写し
    movement_notice = "movement_notice"  # 住民異動届 (handwritten)


class ZoneType(StrEnum):
    """How a zone's text is interpreted and validated after reading."""

    text = "text"
    name = "name"  # 氏名
    roman_name = "roman_name"  # ローマ字氏名 (在留カード)
    kana = "kana"  # フリガナ
    address = "address"
    date = "date"  # 和暦 or 西暦 (shared.text.wareki.parse_date)
    digits = "digits"
    my_number = "my_number"
    resident_code = "resident_code"
    postal_code = "postal_code"
    residence_card_number = "residence_card_number"
    license_number = "license_number"  # 運転免許証の番号 (12 digits, the 11th a check digit)
    sex = "sex"
    relationship = "relationship"  # 続柄
    nationality = "nationality"
    residence_status = "residence_status"
    checkbox = "checkbox"  # marked or not
    image = "image"  # kept as an image (photo, seal), not read


class Box(_Data):
    """A rectangle in pixels of the reference image (origin top-left)."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class ReferenceImage(_Data):
    """The size of the image the boxes were measured on; scans are aligned to it first."""

    width: int = Field(gt=0, description="px")
    height: int = Field(gt=0, description="px")
    dpi: int = Field(300, gt=0, le=1200)
    image: str | None = Field(
        None,
        description="sample scan next to the template file (a template made from a real document); "
        "without it the reference image is rendered from `layout`",
    )


class PrintedText(_Data):
    """Text printed on every copy of the form (a label, the title, the issuer's name)."""

    text: str = Field(min_length=1)
    box: Box
    size: int = Field(gt=0, description="character height in px of the reference image")


class Rule(_Data):
    """A printed line (table rule or frame) from (x1, y1) to (x2, y2) in reference pixels."""

    x1: int = Field(ge=0)
    y1: int = Field(ge=0)
    x2: int = Field(ge=0)
    y2: int = Field(ge=0)
    width: int = Field(3, gt=0, le=20)


class Layout(_Data):
    """The static print of a form: enough to render a blank reference image and test documents."""

    family: str = Field(pattern=SLUG, description="vendor-style layout family it was derived from")
    printed: list[PrintedText] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    security_pattern: str | None = Field(
        None, pattern=r"^#[0-9a-f]{6}$", description="colour of the 地紋 behind the text (#rrggbb)"
    )


class Anchor(_Data):
    """A feature used to align a scan to the reference image (a printed title, a corner mark)."""

    name: str = Field(pattern=FIELD_NAME)
    kind: Literal["text", "mark"] = "text"
    box: Box
    text: str | None = Field(None, description="the printed text expected in the box (kind=text)")

    @model_validator(mode="after")
    def _text_for_text(self) -> Self:
        if self.kind == "text" and not self.text:
            raise invalid("template.anchor_text_required", "文字のアンカーには text を指定してください。")
        return self


class ReadingSettings(_Data):
    """How the OCR engine reads one zone."""

    language: Literal["jpn", "jpn_vert", "eng", "digits"] = "jpn"
    psm: int | None = Field(None, ge=0, le=13, description="Tesseract page segmentation mode")
    whitelist: str | None = Field(None, description="characters allowed in the result")
    vertical: bool = False
    multiline: bool = False
    preprocess: list[Literal["grayscale", "binarize", "denoise", "deskew", "remove_lines", "invert"]] = Field(
        default_factory=list
    )
    min_confidence: float = Field(0.6, ge=0, le=1, description="below this the field is marked for review")


class Zone(_Data):
    """One field on the document."""

    field: str = Field(pattern=FIELD_NAME, description="field name, unique in the template")
    label: str | None = Field(None, description="表示名 (項目名)")
    type: ZoneType = ZoneType.text
    box: Box
    reading: ReadingSettings = Field(default_factory=ReadingSettings)
    required: bool = False


class OcrTemplate(_Data):
    """``form_templates/ocr/<doc_type>/<issuer>/<version>.yaml``."""

    doc_type: DocumentType = Field(description="= the folder <doc_type>")
    issuer: str = Field(
        pattern=r"^(\d{6}|[a-z][a-z0-9_-]*)$",
        description="= the folder <issuer>: 6-digit 全国地方公共団体コード, or a slug for national issuers",
    )
    version: str = Field(pattern=SLUG, description="layout version = the file name")
    label: str = Field(description="表示名")
    valid_from: date = Field(description="first issue date this layout applies to")
    valid_to: date | None = Field(None, description="last issue date (None: still in use)")
    synthetic: bool = Field(False, description="made from synthetic samples, not a real issued document")
    reference: ReferenceImage
    anchors: list[Anchor] = Field(default_factory=list)
    layout: Layout | None = Field(
        None,
        description="static print; without it (and without reference.image) the template cannot be aligned",
    )
    zones: list[Zone] = Field(min_length=1)
    data_model: Literal["movement_notice"] = "movement_notice"
    mapping: dict[str, str] = Field(
        default_factory=dict, description="zone field → path in the data model (persons[].family_name)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.issuer.isdigit() and lg_code_check_digit(self.issuer[:5]) != int(self.issuer[5]):
            raise invalid(
                "template.issuer_check_digit", "発行元の地方公共団体コードの検査数字が一致しません。"
            )
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise invalid("template.valid_range", "valid_to が valid_from より前です。")
        names = [z.field for z in self.zones]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise invalid(
                "template.duplicate_field", "項目名が重複しています: {names}", names=", ".join(dupes)
            )
        boxes = [(z.field, z.box) for z in self.zones] + [(a.name, a.box) for a in self.anchors]
        for name, b in boxes:
            if b.x + b.width > self.reference.width or b.y + b.height > self.reference.height:
                raise invalid(
                    "template.box_outside",
                    "項目「{field}」の枠が基準画像の外にはみ出しています。",
                    field=name,
                )
        for name, path in self.mapping.items():
            if name not in names:
                raise invalid(
                    "template.mapping_unknown_field", "対応付けの「{field}」は項目にありません。", field=name
                )
            _check_path(self.data_model, path)
        return self
