"""REST contract of the counter's input aids: 語句登録 (phrase dictionary) and 住記から入力 (prefill).

=======  ====================================  ===============================  ==================
method   path                                  body → answer                    permission
=======  ====================================  ===============================  ==================
GET      /api/v1/phrases                       → PhraseList (own + office)      reception.create
POST     /api/v1/phrases                       PhraseWrite → PhraseRead         reception.create
PUT      /api/v1/phrases/{id}                  PhraseWrite → PhraseRead         reception.create
DELETE   /api/v1/phrases/{id}                  → 204                            reception.create
POST     /api/v1/phrases/office                PhraseWrite → PhraseRead         phrase.manage
PUT      /api/v1/phrases/office/{id}           PhraseWrite → PhraseRead         phrase.manage
DELETE   /api/v1/phrases/office/{id}           → 204                            phrase.manage
GET      /api/v1/residents                     name?, kana?, birth_date?,       reception.create
                                               address? → list[ResidentHit]
GET      /api/v1/residents/{atena}/household   → list[ResidentHit]              reception.create
=======  ====================================  ===============================  ==================

A clerk's own phrases (``scope = user``) are his alone: another clerk's phrase is 404 to him, as is
another municipality's. Office phrases (``scope = office``) are read by every clerk and written
only with ``phrase.manage``. Updates carry the ``version`` read; a stale one is 409.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.errors import invalid
from shared.text.normalize import normalize_stored, to_halfwidth_alnum, to_hiragana

#: Longest phrase (a memo sentence); 方書 are at most 200 in the notice.
PHRASE_TEXT_MAX = 400
PHRASE_READING_MAX = 100
PHRASE_KEY_MAX = 20

_KEY = re.compile(r"^[0-9A-Za-z_\-]+$")


class _Api(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhraseScope(StrEnum):
    user = "user"  # 個人の語句
    office = "office"  # 団体共通の語句


PHRASE_SCOPE_LABELS: dict[PhraseScope, str] = {PhraseScope.user: "個人", PhraseScope.office: "共通"}


class PhraseCategory(StrEnum):
    town = "town"  # 町字
    building = "building"  # 方書
    memo = "memo"  # メモ・定型文
    other = "other"  # その他


PHRASE_CATEGORY_LABELS: dict[PhraseCategory, str] = {
    PhraseCategory.town: "町字",
    PhraseCategory.building: "方書",
    PhraseCategory.memo: "定型文",
    PhraseCategory.other: "その他",
}


def has_control_characters(text: str) -> bool:
    """Control, format (bidi overrides, zero-width) and surrogate characters; never in a phrase."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


def _text(value: str) -> str:
    if has_control_characters(value):
        raise invalid(
            "phrase.control_characters", "改行・タブや制御文字は登録できません。1行の語句にしてください。"
        )
    value = normalize_stored(value)
    if not value:
        raise invalid("phrase.text_empty", "語句を入力してください。")
    if len(value) > PHRASE_TEXT_MAX:
        raise invalid("phrase.text_too_long", f"語句は{PHRASE_TEXT_MAX}文字以内にしてください。")
    return value


def _reading(value: str) -> str:
    if has_control_characters(value):
        raise invalid("phrase.control_characters", "読みに制御文字は使えません。")
    value = to_hiragana(normalize_stored(value))
    if not value:
        raise invalid("phrase.reading_empty", "読みをひらがなで入力してください。")
    if len(value) > PHRASE_READING_MAX:
        raise invalid("phrase.reading_too_long", f"読みは{PHRASE_READING_MAX}文字以内にしてください。")
    if not all("\u3041" <= ch <= "\u309f" or ch in "ー 　" for ch in value):
        raise invalid("phrase.reading_kana", "読みはひらがな（またはカタカナ）で入力してください。")
    return value


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    value = to_halfwidth_alnum(normalize_stored(value))
    if not value:
        return None
    if len(value) > PHRASE_KEY_MAX or not _KEY.match(value):
        raise invalid(
            "phrase.key_format", f"略号は半角英数字（{PHRASE_KEY_MAX}文字以内、- と _ も可）にしてください。"
        )
    return value.lower()


class PhraseWrite(_Api):
    """A phrase as the clerk types it. Limits are checked after normalisation (NFC, trimmed)."""

    reading: Annotated[
        str, Field(max_length=PHRASE_READING_MAX, description="読み (ひらがな)"), AfterValidator(_reading)
    ]
    key: Annotated[
        str | None,
        Field(max_length=PHRASE_KEY_MAX, description="略号 (半角英数字、任意)"),
        AfterValidator(_key),
    ] = None
    text: Annotated[str, Field(max_length=PHRASE_TEXT_MAX, description="語句"), AfterValidator(_text)]
    category: PhraseCategory = Field(PhraseCategory.other, description="分類")
    version: int | None = Field(None, ge=1, description="更新時: 読み込んだ版 (古ければ 409)")


class PhraseRead(_Api):
    id: UUID
    scope: PhraseScope
    reading: str
    key: str | None
    text: str
    category: PhraseCategory
    version: int
    updated_at: datetime
    updated_by: str = Field(description="最後に変更した職員のログインID")


class PhraseList(_Api):
    items: list[PhraseRead]
    can_manage_office: bool = Field(description="団体共通の語句を管理できる (phrase.manage)")


class ResidentHit(_Api):
    """What the counter needs to prefill a person (no 住民票コード, no 個人番号)."""

    atena_number: str
    household_number: str
    is_foreign: bool = Field(description="住民種別が外国人")
    family_name: str | None
    given_name: str | None
    roman_name: str | None
    name_kana: str | None
    sex: str
    birth_date: date
    relationship: str | None
    householder_name: str | None
    postal_code: str | None
    prefecture: str | None
    municipality: str | None
    town: str | None
    block_number: str | None
    address: str | None = Field(description="都道府県〜番地号 (連結)")
    building: str | None
