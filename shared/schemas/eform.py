"""Schema of ``form_templates/eforms/<slug>.yaml`` (online procedure definitions).

A procedure is data: the portal renders it, the server validates every submission against it.
Rules (``visible_if``, ``required_if``) are JSON Logic objects over the form's values
(``{"==": [{"var": "purpose"}, "other"]}``); inside a repeating group ``var`` names the group's own
fields first, then the form's. The server always evaluates them itself; the browser only mirrors
them to hide fields early.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from shared.errors import invalid
from shared.schemas._common import FIELD_NAME, SLUG, _Data

#: Largest per-file limit a procedure may set (spec 002 6(2)②: whole MB up to 10).
MAX_FILE_MB = 10
#: Aggregate limit of all attachments of one application (spec 002: 100 MB per application).
AGGREGATE_MB = 100
#: Most top-level fields of one procedure, and most fields inside one repeating group (form builder).
MAX_FIELDS = 100
MAX_GROUP_FIELDS = 30
#: The field in which an applicant of a procedure admitting several types chooses 個人 / 法人 / 団体.
APPLICANT_FIELD = "applicant_type"


class EformFieldType(StrEnum):
    text = "text"
    textarea = "textarea"
    kana = "kana"  # フリガナ: full-width katakana after normalisation
    number = "number"
    date = "date"  # with ``wareki: true`` entered as 元号 + 年月日
    email = "email"
    tel = "tel"
    postal_code = "postal_code"  # ``address_field`` names the field it fills
    address = "address"
    select = "select"
    radio = "radio"
    checkbox = "checkbox"
    my_number = "my_number"  # 個人番号: check digit, encrypted at rest
    corporate_number = "corporate_number"  # 法人番号: 13 digits with check digit
    file = "file"
    group = "group"  # repeating group of ``fields`` up to ``max_repeat``
    heading = "heading"  # text only, no input


class ApplicantType(StrEnum):
    individual = "individual"  # 個人
    corporation = "corporation"  # 法人
    group = "group"  # 団体


class JpkiSigners(StrEnum):
    """Who signs with the 署名用電子証明書 when a procedure has ``jpki_required`` (a JPKI
    certificate belongs to a natural person, never to a 法人 or 団体)."""

    individual = "individual"  # 個人の申請だけ: 法人・団体の申請は署名なし (法人番号 and staff checks)
    all = "all"  # すべての申請: 法人・団体は申請する代表者または担当者が本人の証明書で署名


class PaymentMode(StrEnum):
    none = "none"
    prepayment = "prepayment"  # 事前決済: amount fixed at submission
    postpayment = "postpayment"  # 事後決済: staff set the amount later


class MailEvent(StrEnum):
    submitted = "submitted"
    withdrawn = "withdrawn"
    reviewed = "reviewed"
    rejected = "rejected"
    completed = "completed"
    payment_requested = "payment_requested"
    refunded = "refunded"
    returned = "returned"  # 差戻し: staff ask the resident to correct some items


class Option(_Data):
    value: str = Field(min_length=1)
    label: str = Field(min_length=1)


Rule = dict[str, Any]

_CHOICE = (EformFieldType.select, EformFieldType.radio, EformFieldType.checkbox)


class EformField(_Data):
    name: str = Field(pattern=FIELD_NAME)
    label: str = Field(min_length=1)
    type: EformFieldType
    required: bool = False
    help: str | None = Field(None, description="補足説明 shown under the label")
    options: list[Option] = Field(default_factory=list, description="for select / radio / checkbox")
    max_length: int | None = Field(None, gt=0)
    min: float | None = None
    max: float | None = None
    wareki: bool = Field(False, description="date: entered as 元号 + 年月日")
    address_field: str | None = Field(
        None, description="postal_code / corporate_number: the address field it fills"
    )
    name_field: str | None = Field(None, description="corporate_number: the 名称 field it fills")
    visible_if: Rule | None = Field(None, description="JSON Logic: shown (and validated) only if true")
    required_if: Rule | None = Field(None, description="JSON Logic: required when true")
    fields: list[EformField] = Field(
        default_factory=list, max_length=MAX_GROUP_FIELDS, description="group: the repeated fields"
    )
    max_repeat: int | None = Field(None, ge=1, le=50, description="group: most repeats allowed")
    min_repeat: int = Field(0, ge=0, description="group: repeats shown at first / required")

    @model_validator(mode="after")
    def _shape(self) -> Self:
        needs = self.type in (EformFieldType.select, EformFieldType.radio)
        if needs and not self.options:
            raise invalid(
                "eform.options_required",
                "選択肢の項目「{field}」に options を指定してください。",
                field=self.name,
            )
        if self.options and self.type not in _CHOICE:
            raise invalid(
                "eform.options_not_allowed", "項目「{field}」には options は指定できません。", field=self.name
            )
        if self.type == EformFieldType.group:
            if not self.fields or self.max_repeat is None:
                raise invalid(
                    "eform.group_shape",
                    "繰り返し要素「{field}」には fields と max_repeat を指定してください。",
                    field=self.name,
                )
            if any(f.type == EformFieldType.group for f in self.fields):
                raise invalid(
                    "eform.group_nested", "繰り返し要素は入れ子にできません: {field}", field=self.name
                )
            if self.min_repeat > self.max_repeat:
                raise invalid(
                    "eform.group_min", "min_repeat が max_repeat を超えています: {field}", field=self.name
                )
        elif self.fields:
            raise invalid(
                "eform.fields_not_allowed", "項目「{field}」には fields は指定できません。", field=self.name
            )
        return self


class MailText(_Data):
    """A mail's subject and body. Placeholders: {title} {reference} {status} {amount} {url} {name};
    差戻し also {fields} (the items and their reasons) and {fix_url} (opens the correction)."""

    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class Uploads(_Data):
    extensions: list[str] = Field(
        default_factory=lambda: ["pdf", "jpg", "jpeg", "png"], description="allowed extensions, lower case"
    )
    max_file_mb: int = Field(10, ge=1, le=MAX_FILE_MB, description="per-file limit, whole MB up to 10")


class Payment(_Data):
    mode: PaymentMode = PaymentMode.none
    amount: int | None = Field(None, ge=0, description="prepayment: fixed fee in yen")
    amount_per: str | None = Field(None, description="prepayment: number field multiplying the amount")


class EformProcedure(_Data):
    """``form_templates/eforms/<slug>.yaml``: an online procedure (form plus guide page)."""

    slug: str = Field(pattern=SLUG, description="= the file name; the procedure's URL part")
    title: str = Field(min_length=1, description="手続名")
    description: str = Field("", description="制度の概要説明 (shown above the form)")
    example: bool = Field(False, description="a first example, not a procedure in use")
    category: str = Field("その他", description="分類 of the procedure guide")
    keywords: list[str] = Field(default_factory=list, description="extra search words")
    bring: list[str] = Field(default_factory=list, description="what to prepare / 必要なもの")
    fee: str | None = Field(None, description="手数料, as shown")
    contact: str | None = Field(None, description="問い合わせ先")
    homepage: str | None = Field(None, description="制度掲載ホームページの URL")
    applicant_types: list[ApplicantType] = Field(default_factory=lambda: [ApplicantType.individual])
    guest_allowed: bool = Field(True, description="メール認証だけで申請できる (アカウント不要)")
    jpki_required: bool = Field(False, description="公的個人認証の電子署名が必要")
    jpki_signers: JpkiSigners = Field(
        JpkiSigners.individual,
        description="電子署名を求める申請: individual (個人だけ) / all (法人・団体は代表者か担当者が署名)",
    )
    uploads: Uploads = Field(default_factory=Uploads)
    payment: Payment = Field(default_factory=Payment)
    mails: dict[MailEvent, MailText] = Field(default_factory=dict, description="mail texts per event")
    fields: list[EformField] = Field(min_length=1, max_length=MAX_FIELDS)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [f.name for f in self.fields] + [f"{g.name}.{c.name}" for g in self.fields for c in g.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise invalid("eform.duplicate_field", "項目名が重複しています: {names}", names=", ".join(dupes))
        top = {f.name: f for f in self.fields}
        texts = (EformFieldType.text, EformFieldType.textarea, EformFieldType.address)
        for f in self.fields:
            if f.name_field is not None and (
                f.type != EformFieldType.corporate_number
                or f.name_field not in top
                or top[f.name_field].type not in texts
            ):
                raise invalid(
                    "eform.name_field",
                    "法人番号の項目「{field}」の name_field は文字の項目を指定してください。",
                    field=f.name,
                )
            if f.address_field is not None and f.type == EformFieldType.corporate_number:
                if f.address_field not in top or top[f.address_field].type not in texts:
                    raise invalid(
                        "eform.address_field",
                        "法人番号の項目「{field}」の address_field は住所の項目を指定してください。",
                        field=f.name,
                    )
                continue
            if f.address_field is not None and (
                f.address_field not in top or top[f.address_field].type != EformFieldType.address
            ):
                raise invalid(
                    "eform.address_field",
                    "郵便番号の項目「{field}」の address_field は住所の項目を指定してください。",
                    field=f.name,
                )
        if self.payment.amount_per is not None and self.payment.amount_per not in top:
            raise invalid("eform.amount_per", "payment.amount_per の項目がありません。")
        return self

    def field(self, name: str) -> EformField | None:
        """The top-level field called ``name``."""
        return next((f for f in self.fields if f.name == name), None)

    def applicant_type_of(self, values: Mapping[str, Any]) -> ApplicantType | None:
        """個人 / 法人 / 団体 of one application: what was chosen in the ``applicant_type`` field
        (:data:`APPLICANT_FIELD`), else the procedure's only type; None when it cannot be told."""
        chosen = values.get(APPLICANT_FIELD)
        if isinstance(chosen, str) and chosen in self.applicant_types:
            return ApplicantType(chosen)
        return self.applicant_types[0] if len(self.applicant_types) == 1 else None

    def jpki_needed(self, values: Mapping[str, Any]) -> bool:
        """Whether this application must be signed with JPKI (``jpki_required`` and ``jpki_signers``).

        With ``individual`` a 法人 or 団体 applicant does not sign; an applicant whose type cannot
        be told yet (nothing chosen) is asked, so that no unsigned 個人 application gets through.
        """
        if not self.jpki_required:
            return False
        if self.jpki_signers == JpkiSigners.all:
            return True
        return self.applicant_type_of(values) in (None, ApplicantType.individual)
