"""住民異動届 (movement notice): every field of the paper form, as one validated model.

Field list: the legal minimum of 住民基本台帳法 22–25条 and 30条の46/47, the 総務省 業務標準
sample form and the data items of the 住民記録システム標準仕様書 (see GLOSSARY.md for each
Japanese term). Names are stored exactly as given (NFC, IVS kept); dates are ISO dates, shown in
和暦 by the UI. Every rule failure raises a pydantic error with a stable code and a Japanese
message (``shared.errors.invalid``).

A notice read back from storage is validated with ``context=STORED``: the types and formats are
checked as always, the submit-time rules between fields (which addresses a kind needs, dates not
in the future, one 世帯主, a foreign resident's nationality and 区分) are not. They held when the
notice was accepted, and a rule added in a later version must not make a reception kept for five
years impossible to open.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from shared.codes.countries import find_country
from shared.codes.relationship import normalize_relationship
from shared.codes.residence_status import find_status
from shared.errors import InvalidInput, invalid
from shared.text.checkdigit import normalize_lg_code, normalize_my_number, normalize_resident_code
from shared.text.normalize import is_katakana, normalize_stored, to_fullwidth_katakana, to_halfwidth_alnum


class MovementKind(StrEnum):
    """届出の種類. The label is what the form and the screens show."""

    move_in = "move_in"  # 転入
    move_in_special = "move_in_special"  # 特例転入
    move_in_from_abroad = "move_in_from_abroad"  # 国外転入
    move_within = "move_within"  # 転居
    move_out = "move_out"  # 転出
    householder_change = "householder_change"  # 世帯主変更
    household_split = "household_split"  # 世帯分離
    household_merge = "household_merge"  # 世帯合併
    ex_officio = "ex_officio"  # 職権記載

    @property
    def label(self) -> str:
        return MOVEMENT_KIND_LABELS[self]


MOVEMENT_KIND_LABELS: dict[MovementKind, str] = {
    MovementKind.move_in: "転入",
    MovementKind.move_in_special: "特例転入",
    MovementKind.move_in_from_abroad: "国外転入",
    MovementKind.move_within: "転居",
    MovementKind.move_out: "転出",
    MovementKind.householder_change: "世帯主変更",
    MovementKind.household_split: "世帯分離",
    MovementKind.household_merge: "世帯合併",
    MovementKind.ex_officio: "職権記載",
}


class NotifierStanding(StrEnum):
    """届出人の資格."""

    self_ = "self"  # 本人
    householder = "householder"  # 世帯主
    household_member = "household_member"  # 同一世帯員
    agent = "agent"  # 代理人
    official = "official"  # 職権 (no notifier)


class Sex(StrEnum):
    """性別, with the codes of 住基 data (1 男, 2 女)."""

    male = "1"
    female = "2"


class ResidenceCategory(StrEnum):
    """住民基本台帳法第30条の45に規定する区分."""

    mid_long_term = "mid_long_term"  # 中長期在留者
    special_permanent = "special_permanent"  # 特別永住者
    temporary_refuge = "temporary_refuge"  # 一時庇護許可者
    provisional_stay = "provisional_stay"  # 仮滞在許可者
    transitional_stay = "transitional_stay"  # 出生による経過滞在者・国籍喪失による経過滞在者


def _stored(value: str) -> str:
    return normalize_stored(value)


def _optional_stored(value: str | None) -> str | None:
    if value is None:
        return None
    value = normalize_stored(value)
    return value or None


def _kana(value: str | None) -> str | None:
    if value is None:
        return None
    value = to_fullwidth_katakana(normalize_stored(value))
    if not value:
        return None
    if not is_katakana(value):
        raise invalid("kana.not_katakana", "フリガナはカタカナで入力してください。")
    return value


def _postal_code(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = to_halfwidth_alnum(value).replace("-", "").replace("〒", "").strip()
    if not re.fullmatch(r"\d{7}", digits):
        raise invalid("postal_code.format", "郵便番号は7桁の数字で入力してください。")
    return f"{digits[:3]}-{digits[3:]}"


def _checked(fn: object, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return fn(value)  # type: ignore[operator, no-any-return]
    except InvalidInput as exc:
        raise invalid(exc.error_code, exc.message) from None


def _my_number(value: str | None) -> str | None:
    return _checked(normalize_my_number, value)


def _resident_code(value: str | None) -> str | None:
    return _checked(normalize_resident_code, value)


def _lg_code(value: str | None) -> str | None:
    return _checked(normalize_lg_code, value)


def _relationship(value: str) -> str:
    try:
        return normalize_relationship(value)
    except InvalidInput as exc:
        raise invalid(exc.error_code, exc.message) from None


_RESIDENCE_CARD = re.compile(r"^[A-Z]{2}\d{8}[A-Z]{2}$")


def _residence_card_number(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    v = to_halfwidth_alnum(value).strip().upper().replace(" ", "")
    if not _RESIDENCE_CARD.match(v):
        raise invalid(
            "residence_card.format", "在留カード等の番号は英字2桁・数字8桁・英字2桁の12桁で入力してください。"
        )
    return v


def _country(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    v = to_halfwidth_alnum(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", v):
        raise invalid("nationality.format", "国籍・地域はISO 3166の2文字コードで指定してください。")
    if find_country(v) is None:
        raise invalid("nationality.unknown", "国籍・地域のコードが一覧にありません。")
    return v


def _residence_status(value: str | None) -> str | None:
    """在留資格 from the code table (shared.codes.residence_status), stored as its Japanese name."""
    if value is None or not value.strip():
        return None
    status = find_status(value)
    if status is None:
        raise invalid(
            "residence_status.unknown",
            "在留資格が一覧にありません。在留カードの表記どおりに入力してください。",
        )
    return status.name_ja


StoredText = Annotated[str, AfterValidator(_stored)]
OptionalText = Annotated[str | None, AfterValidator(_optional_stored)]
Kana = Annotated[str | None, AfterValidator(_kana)]
PostalCode = Annotated[str | None, AfterValidator(_postal_code)]
MyNumber = Annotated[str | None, AfterValidator(_my_number)]
ResidentCode = Annotated[str | None, AfterValidator(_resident_code)]
LgCode = Annotated[str | None, AfterValidator(_lg_code)]
Relationship = Annotated[str, AfterValidator(_relationship)]
ResidenceCardNumber = Annotated[str | None, AfterValidator(_residence_card_number)]
CountryCode = Annotated[str | None, AfterValidator(_country)]
ResidenceStatusName = Annotated[str | None, AfterValidator(_residence_status)]

_TEXT = {"max_length": 200}


#: Validation context of a notice read back from storage (see the module's docstring).
STORED: dict[str, bool] = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    """Whether this validation reads a stored notice (submit-time rules between fields skipped)."""
    return bool(info.context and info.context.get("stored"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=400, validate_assignment=False)


class Address(_Model):
    """住所: structured as the standard stores it. ``country`` only for addresses abroad."""

    postal_code: PostalCode = Field(None, description="郵便番号 (123-4567)")
    prefecture: OptionalText = Field(None, description="都道府県", max_length=10)
    municipality: OptionalText = Field(None, description="市区郡町村名", max_length=40)
    lg_code: LgCode = Field(None, description="全国地方公共団体コード (6桁)")
    town: OptionalText = Field(None, description="町字", max_length=100)
    block_number: OptionalText = Field(None, description="番地号表記", max_length=100)
    building: OptionalText = Field(None, description="方書", max_length=200)
    country: CountryCode = Field(None, description="国外の住所の国・地域 (ISO 3166 alpha-2)")
    foreign_address: OptionalText = Field(None, description="国外の住所の表記", max_length=400)

    def is_empty(self) -> bool:
        return not any(v for v in self.model_dump().values())

    def one_line(self) -> str:
        """The address as printed on one line (方書 after a space)."""
        if self.country and self.country != "JP":
            return self.foreign_address or self.country
        main = "".join(p for p in (self.prefecture, self.municipality, self.town, self.block_number) if p)
        return f"{main}　{self.building}" if self.building else main


class SocialInsurance(_Model):
    """国保・年金・介護・児童手当 etc.: flags that route the notice to other departments."""

    national_health_insurance: bool = Field(False, description="国民健康保険")
    late_elderly_medical: bool = Field(False, description="後期高齢者医療")
    long_term_care: bool = Field(False, description="介護保険")
    national_pension: bool = Field(False, description="国民年金")
    pension_category: OptionalText = Field(None, description="国民年金 種別 (1号/3号 等)", max_length=10)
    basic_pension_number: OptionalText = Field(None, description="基礎年金番号", max_length=12)
    child_allowance: bool = Field(False, description="児童手当")


class Person(_Model):
    """異動者 one row of the form."""

    is_foreign: bool = Field(False, description="外国人住民")
    # 日本人: 氏・名. 外国人: ローマ字氏名 with optional 漢字併記 and 通称.
    family_name: OptionalText = Field(None, description="氏", max_length=50)
    given_name: OptionalText = Field(None, description="名", max_length=50)
    family_name_kana: Kana = Field(None, description="氏 フリガナ")
    given_name_kana: Kana = Field(None, description="名 フリガナ")
    roman_name: OptionalText = Field(None, description="氏名 (ローマ字; 外国人)", max_length=200)
    kanji_name: OptionalText = Field(None, description="漢字氏名 (外国人の併記名)", max_length=100)
    alias_name: OptionalText = Field(None, description="通称", max_length=100)
    alias_kana: Kana = Field(None, description="通称 フリガナ")
    name_kana: Kana = Field(None, description="氏名 フリガナ (外国人)")
    former_surname: OptionalText = Field(None, description="旧氏", max_length=50)
    former_surname_kana: Kana = Field(None, description="旧氏 フリガナ")
    birth_date: date = Field(description="生年月日")
    sex: Sex = Field(description="性別")
    relationship: Relationship = Field(description="続柄 (世帯主との)")
    old_relationship: Annotated[str | None, AfterValidator(lambda v: _relationship(v) if v else None)] = (
        Field(None, description="旧続柄")
    )
    resident_code: ResidentCode = Field(None, description="住民票コード (転入時)")
    my_number: MyNumber = Field(None, description="個人番号 (暗号化して保存; 表示は権限次第)")
    domicile: OptionalText = Field(None, description="本籍", max_length=200)
    register_head: OptionalText = Field(None, description="筆頭者", max_length=100)
    nationality: CountryCode = Field(None, description="国籍・地域 (ISO 3166 alpha-2)")
    residence_category: ResidenceCategory | None = Field(None, description="法第30条の45に規定する区分")
    residence_status: ResidenceStatusName = Field(
        None,
        description="在留資格 (shared.codes.residence_status の名称; 略さず在留カードの表記)",
        max_length=60,
    )
    period_of_stay: OptionalText = Field(None, description="在留期間 (例: 3年)", max_length=30)
    stay_expiry_date: date | None = Field(None, description="在留期間の満了の日")
    residence_card_number: ResidenceCardNumber = Field(None, description="在留カード等の番号")
    insurance: SocialInsurance = Field(default_factory=SocialInsurance, description="国保・年金等")
    my_number_card: bool | None = Field(None, description="マイナンバーカード 有無")

    @model_validator(mode="after")
    def _check_by_nationality(self, info: ValidationInfo) -> Self:
        if is_stored(info):
            return self
        if self.is_foreign:
            if not self.roman_name:
                raise invalid("person.roman_name_required", "外国人住民はローマ字氏名を入力してください。")
            if not self.nationality:
                raise invalid("person.nationality_required", "外国人住民は国籍・地域を入力してください。")
            if self.nationality == "JP":
                raise invalid("person.nationality_jp", "外国人住民の国籍・地域に日本は指定できません。")
            if self.residence_category is None:
                raise invalid(
                    "person.residence_category_required", "法第30条の45に規定する区分を選んでください。"
                )
            self._check_status_against_category()
        else:
            if not self.family_name:
                raise invalid("person.family_name_required", "氏を入力してください。")
            if self.residence_category is not None or self.residence_card_number:
                raise invalid(
                    "person.japanese_with_residence", "日本人住民には在留資格の項目は記載できません。"
                )
        if self.birth_date > date.today():
            raise invalid("person.birth_in_future", "生年月日が未来の日付です。")
        if self.stay_expiry_date and self.stay_expiry_date < self.birth_date:
            raise invalid("person.stay_expiry_before_birth", "在留期間の満了の日が生年月日より前です。")
        return self

    def _check_status_against_category(self) -> None:
        if self.residence_status is None:
            return
        status = find_status(self.residence_status)
        if status is None:  # pragma: no cover - the field validator already rejected it
            return
        if self.residence_category is ResidenceCategory.special_permanent and not status.is_special_permanent:
            raise invalid(
                "person.status_not_special_permanent",
                "特別永住者の在留資格欄は「特別永住者」としてください。",
            )
        if self.residence_category is ResidenceCategory.mid_long_term and not status.mid_long_term:
            raise invalid(
                "person.status_not_mid_long_term",
                "在留資格「{status}」の方は中長期在留者ではありません。区分と在留資格を確認してください。",
                status=status.name_ja,
            )

    def display_name(self) -> str:
        """The name as the form prints it (氏　名, or the romaji name for foreign residents)."""
        if self.is_foreign:
            return self.roman_name or ""
        return "　".join(p for p in (self.family_name, self.given_name) if p)


class Notifier(_Model):
    """届出人."""

    name: StoredText = Field(description="届出人氏名", max_length=200)
    standing: NotifierStanding = Field(description="届出人の資格")
    address: OptionalText = Field(None, description="届出人住所 (代理人の場合)", max_length=400)
    phone: OptionalText = Field(None, description="連絡先電話番号", max_length=20)
    identity_document: OptionalText = Field(None, description="本人確認書類 (種類)", max_length=60)


#: Kinds that need the old (従前の) address on the form.
NEEDS_OLD_ADDRESS = {MovementKind.move_in, MovementKind.move_in_special, MovementKind.move_within}
#: Kinds that need the new address.
NEEDS_NEW_ADDRESS = {
    MovementKind.move_in,
    MovementKind.move_in_special,
    MovementKind.move_in_from_abroad,
    MovementKind.move_within,
}


class MovementNotice(_Model):
    """住民異動届."""

    kind: MovementKind = Field(description="届出の種類")
    notified_on: date = Field(description="届出日")
    moved_on: date | None = Field(None, description="異動日 (転出は予定日)")
    notifier: Notifier = Field(description="届出人")
    new_address: Address = Field(default_factory=Address, description="新住所")
    old_address: Address = Field(default_factory=Address, description="旧住所 (従前の住所)")
    destination: Address = Field(default_factory=Address, description="転出先 (予定)")
    new_householder: OptionalText = Field(None, description="新世帯主氏名", max_length=200)
    old_householder: OptionalText = Field(None, description="旧世帯主氏名", max_length=200)
    whole_household: bool | None = Field(None, description="世帯の全部／一部の異動")
    persons: list[Person] = Field(min_length=1, max_length=20, description="異動者")
    confirmation_number: OptionalText = Field(None, description="確認番号", max_length=20)
    memo: OptionalText = Field(None, description="メモ", max_length=2000)

    @model_validator(mode="after")
    def _check_kind(self, info: ValidationInfo) -> Self:
        if is_stored(info):
            return self
        today = date.today()
        if self.notified_on > today:
            raise invalid("notice.notified_in_future", "届出日に未来の日付は指定できません。")
        if self.moved_on is not None and self.kind is not MovementKind.move_out and self.moved_on > today:
            raise invalid("notice.moved_in_future", "異動日に未来の日付は指定できません（転出を除く）。")
        if self.kind in NEEDS_NEW_ADDRESS and self.new_address.is_empty():
            raise invalid("notice.new_address_required", "新住所を入力してください。")
        if self.kind in NEEDS_OLD_ADDRESS and self.old_address.is_empty():
            raise invalid("notice.old_address_required", "従前の住所を入力してください。")
        if self.kind is MovementKind.move_out and self.destination.is_empty():
            raise invalid("notice.destination_required", "転出先を入力してください。")
        if self.kind is not MovementKind.ex_officio and self.notifier.standing is NotifierStanding.official:
            raise invalid("notice.official_only_ex_officio", "職権は職権記載の場合だけ選べます。")
        heads = [p for p in self.persons if p.relationship == "世帯主"]
        if len(heads) > 1:
            raise invalid("notice.two_householders", "世帯主は1人だけ指定してください。")
        return self
