"""在留資格 (status of residence) and the 区分 of 住民基本台帳法第30条の45.

Data: ``data/residence_statuses.tsv`` (入管法 別表第一・第二 and 特別永住者) and
``data/residence_categories.tsv`` (the 区分 labels). Sources and notes are in the files' headers.
``ResidenceStatus.id`` is Madoguchi's own stable id; the 在留カード IC code master is not public.
Lookup accepts the name as printed on the card, with full-width digits, spaces or a missing 中黒
(``技術人文知識国際業務``) — what OCR and clerks produce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from shared.codes._tables import lookup_key, read_tsv
from shared.errors import InvalidInput


@dataclass(frozen=True)
class ResidenceStatus:
    id: str
    name_ja: str
    name_en: str
    annex: str  # 別表第一の一 … 別表第二, 入管特例法
    mid_long_term: bool  # can make its holder a 中長期在留者 (and so a 住民)
    valid_from: date | None
    valid_to: date | None
    note: str

    def in_force(self, on: date) -> bool:
        """Whether this status can be granted on ``on`` (育成就労 only from its 施行日)."""
        if self.valid_from is not None and on < self.valid_from:
            return False
        return self.valid_to is None or on <= self.valid_to

    @property
    def is_special_permanent(self) -> bool:
        return self.id == "special_permanent_resident"


@dataclass(frozen=True)
class ResidenceCategoryInfo:
    id: str  # = shared.models.ResidenceCategory value
    label: str
    short_label: str
    document: str


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def all_statuses() -> tuple[ResidenceStatus, ...]:
    """Every 在留資格 in the order of the Act, then 特別永住者."""
    return tuple(
        ResidenceStatus(
            id=row["id"],
            name_ja=row["name_ja"],
            name_en=row["name_en"],
            annex=row["annex"],
            mid_long_term=row["mid_long_term"] == "true",
            valid_from=_date(row["valid_from"]),
            valid_to=_date(row["valid_to"]),
            note=row["note"],
        )
        for row in read_tsv("residence_statuses.tsv")
    )


@cache
def _index() -> dict[str, ResidenceStatus]:
    index: dict[str, ResidenceStatus] = {}
    for status in all_statuses():
        index[status.id] = status
        index[lookup_key(status.name_ja)] = status
    return index


def find_status(text: str) -> ResidenceStatus | None:
    """The status named ``text`` (Japanese name in any width, or our id), else None."""
    return _index().get(text.strip()) or _index().get(lookup_key(text))


def get_status(text: str) -> ResidenceStatus:
    """Like :func:`find_status` but raises :class:`InvalidInput` (``residence_status.unknown``)."""
    status = find_status(text)
    if status is None:
        raise InvalidInput(
            "在留資格が一覧にありません。在留カードの表記どおりに入力してください。",
            code="residence_status.unknown",
        )
    return status


@cache
def all_categories() -> tuple[ResidenceCategoryInfo, ...]:
    """The 区分 of 住基法30条の45 with their labels."""
    return tuple(
        ResidenceCategoryInfo(
            id=row["id"], label=row["label"], short_label=row["short_label"], document=row["document"]
        )
        for row in read_tsv("residence_categories.tsv")
    )


def category_label(category_id: str) -> str:
    """The 区分 label for a :class:`shared.models.ResidenceCategory` value."""
    for info in all_categories():
        if info.id == category_id:
            return info.label
    raise InvalidInput("法第30条の45に規定する区分が正しくありません。", code="residence_category.unknown")
