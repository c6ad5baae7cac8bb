"""和暦: formatting, parsing, era boundaries, 元年 and the short forms clerks and cards use."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.text.wareki import ERAS, format_wareki, from_wareki, parse_date, to_wareki

FIRST = date(1868, 10, 23)
LAST = date(2100, 12, 31)


def test_round_trip_every_date_meiji_to_2100() -> None:
    """format_wareki → parse_date gives back every date from 1868-10-23 to 2100-12-31, both spellings."""
    d = FIRST
    one = timedelta(days=1)
    while d <= LAST:
        assert parse_date(format_wareki(d)) == d
        assert parse_date(format_wareki(d, gannen=False)) == d
        d += one


@given(st.dates(min_value=FIRST, max_value=LAST))
def test_short_and_coded_forms_round_trip(d: date) -> None:
    """R01.05.01-style short forms and the 住基 NYYMMDD code parse back to the same date."""
    w = to_wareki(d)
    assert parse_date(w.short()) == d
    assert parse_date(f"{w.era.code}{w.year:02d}{w.month:02d}{w.day:02d}") == d


@given(st.dates(min_value=FIRST, max_value=LAST))
def test_full_width_input_parses(d: date) -> None:
    """Full-width digits and era initials (Ｒ１．５．１) parse like half-width ones."""
    w = to_wareki(d)
    text = f"{w.era.initial}{w.year}.{w.month}.{w.day}"
    full = text.translate(str.maketrans("0123456789.MTSHR", "０１２３４５６７８９．ＭＴＳＨＲ"))
    assert parse_date(full) == d


@pytest.mark.parametrize(
    ("iso", "wareki"),
    [
        (date(1868, 10, 23), "明治元年10月23日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
    ],
)
def test_era_boundaries(iso: date, wareki: str) -> None:
    """Each era's last and first day format and parse exactly as the 改元 dates say."""
    assert format_wareki(iso) == wareki
    assert parse_date(wareki) == iso


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",
        "昭和64年1月8日",
        "大正15年12月25日",
        "明治45年7月30日",
        "令和元年4月30日",
        "明治元年10月22日",
    ],
)
def test_date_outside_its_era_is_rejected(text: str) -> None:
    """A date that does not exist in the named era (平成31年5月1日) is rejected, not shifted."""
    with pytest.raises(InvalidInput) as exc:
        parse_date(text)
    assert exc.value.error_code == "wareki.out_of_era"


def test_gannen_spellings() -> None:
    """元年, 1年 and 01 all mean the first year of the era."""
    for text in ("令和元年5月1日", "令和1年5月1日", "令和01年05月01日", "R1.5.1", "R01.05.01", "令1.5.1"):
        assert parse_date(text) == date(2019, 5, 1)
    assert format_wareki(date(2019, 12, 31)) == "令和元年12月31日"
    assert to_wareki(date(2019, 12, 31)).short() == "R01.12.31"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "wareki.empty"),
        ("令和5年2月30日", "wareki.no_such_date"),
        ("令和0年1月1日", "wareki.year"),
        ("きのう", "wareki.format"),
        ("1868-10-22", None),
    ],
)
def test_bad_dates(text: str, code: str | None) -> None:
    """Empty, impossible and unreadable dates raise InvalidInput with a Japanese message."""
    if code is None:
        assert parse_date(text) == date(1868, 10, 22)  # 西暦 itself is fine; only 和暦 stops at 明治
        with pytest.raises(InvalidInput):
            format_wareki(parse_date(text))
        return
    with pytest.raises(InvalidInput) as exc:
        parse_date(text)
    assert exc.value.error_code == code
    assert any("\u3040" <= ch <= "\u9fff" for ch in exc.value.message)


def test_from_wareki_by_name_and_object() -> None:
    """from_wareki accepts an Era, its kanji name and its initial."""
    assert from_wareki(ERAS[-1], 1, 5, 1) == from_wareki("令和", 1, 5, 1) == from_wareki("R", 1, 5, 1)
