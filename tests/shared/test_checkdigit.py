"""Check digits of 個人番号, 住民票コード and 全国地方公共団体コード."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.codes.municipalities import all_municipalities, all_prefectures
from shared.errors import InvalidInput
from shared.text.checkdigit import (
    lg_code_check_digit,
    my_number_check_digit,
    normalize_lg_code,
    normalize_my_number,
    normalize_resident_code,
    resident_code_check_digit,
)


def _remainder(body: str) -> int:
    """Σ P·Q mod 11 of the 個人番号 / 住民票コード scheme."""
    total = 0
    for n, ch in enumerate(reversed(body), start=1):
        total += int(ch) * (n + 1 if n <= 6 else n - 5)
    return total % 11


def _lg_remainder(body: str) -> int:
    return sum(int(c) * w for c, w in zip(body, (6, 5, 4, 3, 2), strict=True)) % 11


digits11 = st.text(alphabet="0123456789", min_size=11, max_size=11)
digits10 = st.text(alphabet="0123456789", min_size=10, max_size=10)
digits5 = st.text(alphabet="0123456789", min_size=5, max_size=5)


@given(digits11)
def test_my_number_with_computed_digit_validates(body: str) -> None:
    """Any eleven digits plus their computed check digit form a valid 個人番号."""
    number = body + str(my_number_check_digit(body))
    assert normalize_my_number(number) == number
    assert normalize_my_number(f"{number[:4]}-{number[4:8]} {number[8:]}") == number


@given(digits11, st.integers(0, 10), st.integers(1, 9))
def test_my_number_single_digit_change_detected(body: str, pos: int, delta: int) -> None:
    """A changed digit is caught, except where mod 11 cannot: remainders 0 and 1 share check digit 0."""
    changed = body[:pos] + str((int(body[pos]) + delta) % 10) + body[pos + 1 :]
    if my_number_check_digit(changed) == my_number_check_digit(body):
        assert {_remainder(body), _remainder(changed)} == {0, 1}
    else:
        with pytest.raises(InvalidInput):
            normalize_my_number(changed + str(my_number_check_digit(body)))


@given(digits11, st.integers(1, 9))
def test_my_number_changed_check_digit_detected(body: str, delta: int) -> None:
    """A wrong check digit itself is always caught."""
    wrong = (my_number_check_digit(body) + delta) % 10
    with pytest.raises(InvalidInput) as exc:
        normalize_my_number(body + str(wrong))
    assert exc.value.error_code == "my_number.check_digit"


@given(digits11, st.integers(0, 9))
def test_my_number_adjacent_transposition_detected(body: str, pos: int) -> None:
    """Swapping two different adjacent digits is caught, with the same remainder-0/1 exception."""
    if body[pos] == body[pos + 1]:
        return
    swapped = body[:pos] + body[pos + 1] + body[pos] + body[pos + 2 :]
    if my_number_check_digit(swapped) == my_number_check_digit(body):
        assert {_remainder(body), _remainder(swapped)} == {0, 1}
    else:
        with pytest.raises(InvalidInput):
            normalize_my_number(swapped + str(my_number_check_digit(body)))


@given(digits10, st.integers(0, 9), st.integers(1, 9))
def test_resident_code_single_digit_change_detected(body: str, pos: int, delta: int) -> None:
    """住民票コード: computed digit validates; a changed digit is caught except remainders 0/1."""
    code = body + str(resident_code_check_digit(body))
    assert normalize_resident_code(code) == code
    changed = body[:pos] + str((int(body[pos]) + delta) % 10) + body[pos + 1 :]
    if resident_code_check_digit(changed) == resident_code_check_digit(body):
        assert {_remainder(body), _remainder(changed)} == {0, 1}
    else:
        with pytest.raises(InvalidInput) as exc:
            normalize_resident_code(changed + code[-1])
        assert exc.value.error_code == "resident_code.check_digit"


@given(digits5, st.integers(0, 4), st.integers(1, 9))
def test_lg_code_single_digit_change_detected(body: str, pos: int, delta: int) -> None:
    """地方公共団体コード: computed digit validates; a change is caught except remainders 0/10 (both 1)."""
    code = body + str(lg_code_check_digit(body))
    assert normalize_lg_code(code) == code
    assert normalize_lg_code(body) == code
    changed = body[:pos] + str((int(body[pos]) + delta) % 10) + body[pos + 1 :]
    if lg_code_check_digit(changed) == lg_code_check_digit(body):
        assert {_lg_remainder(body), _lg_remainder(changed)} == {0, 10}
    else:
        with pytest.raises(InvalidInput):
            normalize_lg_code(changed + code[-1])


def test_known_real_examples() -> None:
    """Published examples: the 個人番号 sample 123456789018 and real 地方公共団体コード."""
    assert normalize_my_number("1234 5678 9018") == "123456789018"
    assert normalize_my_number("１２３４－５６７８－９０１８") == "123456789018"
    with pytest.raises(InvalidInput):
        normalize_my_number("123456789012")
    assert normalize_lg_code("08210") == "082104"  # 茨城県下妻市
    assert normalize_lg_code("131016") == "131016"  # 東京都千代田区
    assert normalize_lg_code("011002") == "011002"  # 北海道札幌市
    assert normalize_lg_code("471003") == "471003"  # 沖縄県那覇市


def test_every_code_in_the_municipality_table_validates() -> None:
    """All 1,788 codes of the 総務省 list carry a correct check digit."""
    for p in all_prefectures():
        assert normalize_lg_code(p.lg_code) == p.lg_code
    for m in all_municipalities():
        assert normalize_lg_code(m.lg_code) == m.lg_code


@pytest.mark.parametrize(
    ("fn", "value", "code"),
    [
        (normalize_my_number, "12345", "my_number.format"),
        (normalize_my_number, "12345678901a", "my_number.format"),
        (normalize_resident_code, "123", "resident_code.format"),
        (normalize_lg_code, "08230", None),
        (normalize_lg_code, "082100", "lg_code.check_digit"),
        (normalize_lg_code, "abcdef", "lg_code.format"),
    ],
)
def test_format_errors(fn: object, value: str, code: str | None) -> None:
    """Wrong lengths and letters raise InvalidInput with their own code; messages never echo the value."""
    if code is None:
        assert fn(value) == "082309"  # type: ignore[operator]
        return
    with pytest.raises(InvalidInput) as exc:
        fn(value)  # type: ignore[operator]
    assert exc.value.error_code == code
    assert value not in exc.value.message
