"""Check digits of 個人番号, 住民票コード and 全国地方公共団体コード.

Sources:
- 個人番号: 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令第8条の
  総務省令 (平成26年総務省令第85号) 第5条. Eleven digits P1..P11 counted from the right,
  weights Q = n+1 for n ≤ 6 and n−5 for n ≥ 7; check = 11 − (Σ mod 11), or 0 when the remainder ≤ 1.
- 住民票コード: 住民基本台帳法施行規則第1条, the same modulus-11 scheme over ten digits.
- 全国地方公共団体コード: 総務省「全国地方公共団体コード」: digits a..e weighted 6,5,4,3,2;
  check = last digit of 11 − (Σ mod 11).
- 法人番号: 法人番号の指定等に関する省令 (平成26年財務省令第70号) 第2条. The check digit comes
  first: 9 − (Σ Pn·Qn mod 9) over the twelve base digits Pn counted from the right, Qn = 1 for odd
  n and 2 for even n.
"""

from __future__ import annotations

from shared.errors import InvalidInput


def _mod11_weights_2_to_7(body: str) -> int:
    total = 0
    for n, ch in enumerate(reversed(body), start=1):
        q = n + 1 if n <= 6 else n - 5
        total += int(ch) * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit for the first eleven digits of a 個人番号."""
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("eleven ASCII digits expected")
    return _mod11_weights_2_to_7(first_eleven)


def resident_code_check_digit(first_ten: str) -> int:
    """The check digit for the first ten digits of a 住民票コード."""
    if len(first_ten) != 10 or not first_ten.isascii() or not first_ten.isdigit():
        raise ValueError("ten ASCII digits expected")
    return _mod11_weights_2_to_7(first_ten)


def lg_code_check_digit(first_five: str) -> int:
    """The check digit (6th digit) of a 全国地方公共団体コード."""
    if len(first_five) != 5 or not first_five.isascii() or not first_five.isdigit():
        raise ValueError("five ASCII digits expected")
    total = sum(int(ch) * w for ch, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def corporate_number_check_digit(base_twelve: str) -> int:
    """The check digit (first digit) of a 法人番号 for its twelve base digits."""
    if len(base_twelve) != 12 or not base_twelve.isascii() or not base_twelve.isdigit():
        raise ValueError("twelve ASCII digits expected")
    total = sum(int(d) * (1 if n % 2 == 1 else 2) for n, d in enumerate(reversed(base_twelve), start=1))
    return 9 - total % 9


def _digits(value: str) -> str:
    """Half-width digits with spaces and hyphens removed (clerks type 1234-5678-9012)."""
    table = str.maketrans("０１２３４５６７８９", "0123456789", " 　-‐－ー")
    return value.translate(table)


def normalize_my_number(value: str) -> str:
    """Return the 12-digit 個人番号 or raise :class:`InvalidInput` (message never echoes it)."""
    digits = _digits(value)
    if len(digits) != 12 or not digits.isdigit():
        raise InvalidInput("個人番号は12桁の数字で入力してください。", code="my_number.format")
    if my_number_check_digit(digits[:11]) != int(digits[11]):
        raise InvalidInput(
            "個人番号の検査用数字が一致しません。番号を確認してください。", code="my_number.check_digit"
        )
    return digits


def normalize_resident_code(value: str) -> str:
    """Return the 11-digit 住民票コード or raise :class:`InvalidInput`."""
    digits = _digits(value)
    if len(digits) != 11 or not digits.isdigit():
        raise InvalidInput("住民票コードは11桁の数字で入力してください。", code="resident_code.format")
    if resident_code_check_digit(digits[:10]) != int(digits[10]):
        raise InvalidInput(
            "住民票コードの検査数字が一致しません。番号を確認してください。",
            code="resident_code.check_digit",
        )
    return digits


def normalize_lg_code(value: str) -> str:
    """Return the 6-digit 全国地方公共団体コード (a 5-digit one gets its check digit)."""
    digits = _digits(value)
    if len(digits) == 5 and digits.isdigit():
        return digits + str(lg_code_check_digit(digits))
    if len(digits) != 6 or not digits.isdigit():
        raise InvalidInput("地方公共団体コードは6桁の数字で入力してください。", code="lg_code.format")
    if lg_code_check_digit(digits[:5]) != int(digits[5]):
        raise InvalidInput("地方公共団体コードの検査数字が一致しません。", code="lg_code.check_digit")
    return digits


def normalize_corporate_number(value: str) -> str:
    """Return the 13-digit 法人番号 or raise :class:`InvalidInput`."""
    digits = _digits(value)
    if len(digits) != 13 or not digits.isdigit():
        raise InvalidInput("法人番号は13桁の数字で入力してください。", code="corporate_number.format")
    if corporate_number_check_digit(digits[1:]) != int(digits[0]):
        raise InvalidInput(
            "法人番号の検査用数字が一致しません。番号を確認してください。",
            code="corporate_number.check_digit",
        )
    return digits
