"""Code tables: 異動事由, 在留資格 and 区分, countries, municipalities."""

from __future__ import annotations

from datetime import date

import pytest

from shared.codes import countries, municipalities, residence_status
from shared.codes.movement_reason import (
    DEFAULT_REASON_IDS,
    ReasonCategory,
    all_reasons,
    default_reason,
    get_reason,
    reason_for_notice,
    reasons_in,
)
from shared.errors import InvalidInput
from shared.models import MovementKind, MovementNotice, ResidenceCategory


def test_movement_reasons_cover_the_standard() -> None:
    """Every 異動事由 of research A §2.2 is in its 区分, ids are unique, 転居取消 is absent."""
    labels = {c: {r.label for r in reasons_in(c)} for c in ReasonCategory}
    assert {
        "国内転入",
        "国外転入等",
        "出生",
        "職権記載（帰化等）",
        "職権記載（国籍喪失）",
        "職権記載",
        "改製",
        "再製",
        "異動の取消し（増）",
    } == labels[ReasonCategory.entry]
    assert {
        "国内転出",
        "国外転出",
        "死亡",
        "職権消除（帰化等）",
        "職権消除（国籍喪失）",
        "職権消除",
        "改製",
        "再製",
        "異動の取消し（減）",
    } == labels[ReasonCategory.removal]
    assert {
        "転居",
        "軽微な修正",
        "職権修正",
        "誤記修正",
        "個人番号の変更請求",
        "個人番号の職権修正",
        "個人番号の職権記載",
        "住民票コードの変更請求",
        "住民票コードの職権記載",
        "世帯分離",
        "世帯合併",
        "世帯変更",
        "世帯主変更",
        "旧氏の記載",
        "旧氏の変更",
        "旧氏の削除",
        "通称の記載",
        "通称の削除",
        "異動の取消し（修正）",
    } == labels[ReasonCategory.correction]
    ids = [r.id for r in all_reasons()]
    assert len(ids) == len(set(ids))
    assert all(r.id.startswith(r.category.value + ".") for r in all_reasons())
    assert not any("転居取消" in r.label for r in all_reasons())
    assert ReasonCategory.removal.label == "消除の事由"


def test_every_movement_kind_has_a_default_reason() -> None:
    """Each MovementKind maps to an existing reason; 転入 → 国内転入, 転出 → 国内転出, 転居 → 転居."""
    assert set(DEFAULT_REASON_IDS) == set(MovementKind)
    assert default_reason(MovementKind.move_in).label == "国内転入"
    assert default_reason(MovementKind.move_in_from_abroad).label == "国外転入等"
    assert default_reason(MovementKind.move_out).label == "国内転出"
    assert default_reason(MovementKind.move_within).label == "転居"
    assert default_reason(MovementKind.householder_change).label == "世帯主変更"
    with pytest.raises(InvalidInput):
        get_reason("entry.nope")


def test_move_out_abroad_reason() -> None:
    """A 転出 whose 転出先 is abroad records 国外転出."""
    notice = MovementNotice.model_validate(
        {
            "kind": "move_out",
            "notified_on": "2024-04-10",
            "notifier": {"name": "下妻　太郎", "standing": "self"},
            "destination": {"country": "US", "foreign_address": "New York"},
            "persons": [
                {"family_name": "下妻", "birth_date": "1980-05-05", "sex": "1", "relationship": "世帯主"}
            ],
        }
    )
    assert reason_for_notice(notice).label == "国外転出"


def test_residence_statuses() -> None:
    """All 在留資格 of the Act plus 特別永住者 are listed and found by name in any width."""
    names = {s.name_ja for s in residence_status.all_statuses()}
    for name in (
        "外交",
        "高度専門職1号イ",
        "高度専門職2号",
        "特定技能2号",
        "技能実習3号ロ",
        "育成就労",
        "定住者",
        "特別永住者",
        "日本人の配偶者等",
        "永住者の配偶者等",
        "技術・人文知識・国際業務",
    ):
        assert name in names
    assert len(names) == 40  # 39 in the Act (育成就労 included) + 特別永住者
    assert residence_status.get_status("高度専門職１号ロ").id == "highly_skilled_1b"
    assert residence_status.get_status("経営 管理").name_ja == "経営・管理"
    assert residence_status.get_status("student").name_ja == "留学"
    with pytest.raises(InvalidInput) as exc:
        residence_status.get_status("観光ビザ")
    assert exc.value.error_code == "residence_status.unknown"


def test_ikusei_shuro_is_pending() -> None:
    """育成就労 is in force only from 2027-04-01; 技能実習 is not ended by the table."""
    ikusei = residence_status.get_status("育成就労")
    assert not ikusei.in_force(date(2026, 12, 31))
    assert ikusei.in_force(date(2027, 4, 1))
    assert residence_status.get_status("技能実習1号イ").in_force(date(2030, 1, 1))


def test_residence_categories_match_the_model_enum() -> None:
    """The 区分 table has exactly the values of ResidenceCategory, each with a Japanese label."""
    assert {c.id for c in residence_status.all_categories()} == {c.value for c in ResidenceCategory}
    assert residence_status.category_label("mid_long_term") == "中長期在留者"
    with pytest.raises(InvalidInput):
        residence_status.category_label("tourist")


def test_countries() -> None:
    """Countries are found by alpha-2/alpha-3 code and by Japanese printed name, ISO name or alias."""
    assert len(countries.all_countries()) == 249
    assert countries.get_country("vn").name_ja == "ベトナム"
    assert countries.get_country("ＣＨＮ").alpha_2 == "CN"
    assert countries.find_country_by_name("台湾").alpha_2 == "TW"  # type: ignore[union-attr]
    assert countries.find_country_by_name("中国領・台湾").alpha_2 == "TW"  # type: ignore[union-attr]
    assert countries.find_country_by_name("大韓民国").alpha_2 == "KR"  # type: ignore[union-attr]
    assert countries.find_country_by_name("アメリカ").alpha_2 == "US"  # type: ignore[union-attr]
    assert countries.find_country_by_name("フィリピン").alpha_2 == "PH"  # type: ignore[union-attr]
    assert countries.find_country_by_name("アトランティス") is None
    names = [c.name_ja for c in countries.all_countries()]
    assert len(names) == len(set(names))
    with pytest.raises(InvalidInput):
        countries.get_country("XX")


def test_prefectures() -> None:
    """47 都道府県 with JIS X 0401 codes 01–47, found by code or by name with or without 都府県."""
    prefs = municipalities.all_prefectures()
    assert [p.code for p in prefs] == [f"{i:02d}" for i in range(1, 48)]
    assert municipalities.find_prefecture("08").name == "茨城県"  # type: ignore[union-attr]
    assert municipalities.find_prefecture("8").name == "茨城県"  # type: ignore[union-attr]
    assert municipalities.find_prefecture("東京").lg_code == "130001"  # type: ignore[union-attr]
    assert municipalities.find_prefecture("北海道").code == "01"  # type: ignore[union-attr]


def test_municipalities() -> None:
    """1,741 市区町村: 下妻市 is 082104 (082309 is かすみがうら市); lookup by code and by name."""
    assert len(municipalities.all_municipalities()) == 1741
    shimotsuma = municipalities.get_municipality("082104")
    assert (shimotsuma.full_name, shimotsuma.kana) == ("茨城県下妻市", "シモツマシ")
    assert municipalities.get_municipality("08210") == shimotsuma
    assert municipalities.find_municipality_by_name("茨城県", "下妻市") == shimotsuma
    assert municipalities.find_municipality_by_name("茨城", "下妻市") == shimotsuma
    assert municipalities.get_municipality("082309").name == "かすみがうら市"
    assert municipalities.find_municipality_by_name("東京都", "府中市").lg_code == "132063"  # type: ignore[union-attr]
    assert municipalities.find_municipality_by_name("広島県", "府中市").lg_code == "342084"  # type: ignore[union-attr]
    assert municipalities.find_municipality_by_name("茨城県", "千代田区") is None
    assert len(municipalities.municipalities_in("東京都")) == 62
    assert municipalities.find_municipality("999999") is None
    with pytest.raises(InvalidInput) as exc:
        municipalities.get_municipality("010006")  # a prefecture, not a 市区町村
    assert exc.value.error_code == "lg_code.unknown"
