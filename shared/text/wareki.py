"""和暦 ⇄ 西暦 for 明治 to 令和.

Era boundaries (the first day of each era, in the Gregorian calendar):

======  ==========  ==============================================
era     first day   note
======  ==========  ==============================================
明治    1868-10-23  改元の詔; dates before are out of range
大正    1912-07-30  明治45年7月29日 is the last day of 明治
昭和    1926-12-25  大正15年12月24日 is the last day of 大正
平成    1989-01-08  昭和64年1月7日 is the last day of 昭和
令和    2019-05-01  平成31年4月30日 is the last day of 平成
======  ==========  ==============================================

The first year of an era is written 元年 and parsed from 元年, 1年 or 01. Parsing accepts the
kanji era (令和), its initial (R / r / Ｒ), the one-letter form used on cards (令), and the digit
codes 1–5 used in 住基 data (1明治 2大正 3昭和 4平成 5令和) as ``NYYMMDD``.
A date that does not exist in the named era (平成31年5月1日) is rejected, not shifted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from shared.errors import InvalidInput


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    initial: str  # R
    code: int  # 5 in 住基 data
    start: date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", 1, date(1868, 10, 23)),
    Era("大正", "T", 2, date(1912, 7, 30)),
    Era("昭和", "S", 3, date(1926, 12, 25)),
    Era("平成", "H", 4, date(1989, 1, 8)),
    Era("令和", "R", 5, date(2019, 5, 1)),
)
_BY_NAME = {e.name: e for e in ERAS} | {e.name[0]: e for e in ERAS} | {e.initial: e for e in ERAS}
_BY_CODE = {e.code: e for e in ERAS}


@dataclass(frozen=True)
class WarekiDate:
    era: Era
    year: int
    month: int
    day: int

    def format(self, *, gannen: bool = True) -> str:
        """``令和元年5月1日`` (or ``令和1年5月1日`` with ``gannen=False``)."""
        y = "元" if (self.year == 1 and gannen) else str(self.year)
        return f"{self.era.name}{y}年{self.month}月{self.day}日"

    def short(self) -> str:
        """``R01.05.01`` as printed in narrow boxes."""
        return f"{self.era.initial}{self.year:02d}.{self.month:02d}.{self.day:02d}"


def _era_of(d: date) -> Era:
    for era in reversed(ERAS):
        if d >= era.start:
            return era
    raise InvalidInput("明治より前の日付は和暦に変換できません。", code="wareki.before_meiji")


def era_end(era: Era) -> date | None:
    """The last day of ``era``, or None for the current one."""
    idx = ERAS.index(era)
    if idx + 1 == len(ERAS):
        return None
    nxt = ERAS[idx + 1].start
    return date.fromordinal(nxt.toordinal() - 1)


def to_wareki(d: date) -> WarekiDate:
    """The 和暦 of a Gregorian date."""
    era = _era_of(d)
    return WarekiDate(era, d.year - era.start.year + 1, d.month, d.day)


def format_wareki(d: date, *, gannen: bool = True) -> str:
    """``date(2019, 5, 1)`` → ``令和元年5月1日``."""
    return to_wareki(d).format(gannen=gannen)


def from_wareki(era: Era | str, year: int, month: int, day: int) -> date:
    """The Gregorian date of an era date; raises :class:`InvalidInput` if it is not in that era."""
    if isinstance(era, str):
        try:
            era = _BY_NAME[era]
        except KeyError:
            raise InvalidInput(f"元号「{era}」は使えません。", code="wareki.unknown_era") from None
    if year < 1:
        raise InvalidInput("年は1以上（元年）で入力してください。", code="wareki.year")
    try:
        d = date(era.start.year + year - 1, month, day)
    except ValueError:
        raise InvalidInput("存在しない日付です。", code="wareki.no_such_date") from None
    end = era_end(era)
    if d < era.start or (end is not None and d > end):
        raise InvalidInput(
            f"{era.name}{'元' if year == 1 else year}年{month}月{day}日は{era.name}の期間にありません。",
            code="wareki.out_of_era",
        )
    return d


_ERA_KEYS = "|".join(sorted((re.escape(k) for k in _BY_NAME), key=len, reverse=True))
_PATTERN = re.compile(
    rf"^(?P<era>{_ERA_KEYS})\s*(?P<year>元|\d{{1,2}})\s*[年./\-]\s*(?P<month>\d{{1,2}})\s*[月./\-]"
    rf"\s*(?P<day>\d{{1,2}})\s*日?$"
)
_CODED = re.compile(r"^(?P<code>[1-5])(?P<year>\d{2})(?P<month>\d{2})(?P<day>\d{2})$")
_ISO = re.compile(r"^(?P<year>\d{4})\s*[年./\-]\s*(?P<month>\d{1,2})\s*[月./\-]\s*(?P<day>\d{1,2})\s*日?$")


def parse_date(text: str) -> date:
    """Parse 和暦 (``令和元年5月1日``, ``R1.5.1``, ``5010501``) or 西暦 (``2019年5月1日``, ``2019-05-01``)."""
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()
    if not s:
        raise InvalidInput("日付を入力してください。", code="wareki.empty")
    if m := _PATTERN.match(s):
        year = 1 if m["year"] == "元" else int(m["year"])
        return from_wareki(_BY_NAME[m["era"]], year, int(m["month"]), int(m["day"]))
    if m := _CODED.match(s):
        return from_wareki(_BY_CODE[int(m["code"])], int(m["year"]), int(m["month"]), int(m["day"]))
    if m := _ISO.match(s):
        try:
            return date(int(m["year"]), int(m["month"]), int(m["day"]))
        except ValueError:
            raise InvalidInput("存在しない日付です。", code="wareki.no_such_date") from None
    raise InvalidInput(
        "日付の形式が正しくありません。例: 令和6年4月1日、R6.4.1、2024-04-01", code="wareki.format"
    )
