"""異動事由 (movement reasons) by the 区分 of the 住民記録システム標準仕様書, and the default reason of
each 届出の種類 (:class:`shared.models.MovementKind`).

Data: ``data/movement_reasons.tsv`` (source and notes in its header). The standard's numeric codes
were not found; ``MovementReason.id`` is Madoguchi's own stable id, e.g. ``entry.move_in_domestic``.
Mapping (標準仕様書 4.1.0.1): 転入 → 国内転入 or 国外転入等; 転出 → 国内転出 or 国外転出 (by the
destination's country); 世帯変更等 → 世帯分離 / 世帯合併 / 世帯主変更; 転居 → 転居.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from shared.codes._tables import read_tsv
from shared.errors import InvalidInput
from shared.models.movement_notice import MovementKind, MovementNotice


class ReasonCategory(StrEnum):
    entry = "entry"  # 記載の事由
    removal = "removal"  # 消除の事由
    correction = "correction"  # 修正の事由

    @property
    def label(self) -> str:
        return {"entry": "記載の事由", "removal": "消除の事由", "correction": "修正の事由"}[self.value]


class AppliesTo(StrEnum):
    both = "both"
    japanese = "japanese"  # 日本人住民のみ
    foreign = "foreign"  # 外国人住民のみ


@dataclass(frozen=True)
class MovementReason:
    id: str
    category: ReasonCategory
    label: str
    applies_to: AppliesTo
    note: str


@cache
def all_reasons() -> tuple[MovementReason, ...]:
    """Every 異動事由 in the order of the standard."""
    return tuple(
        MovementReason(
            id=row["id"],
            category=ReasonCategory(row["category"]),
            label=row["label"],
            applies_to=AppliesTo(row["applies_to"]),
            note=row["note"],
        )
        for row in read_tsv("movement_reasons.tsv")
    )


@cache
def _by_id() -> dict[str, MovementReason]:
    return {r.id: r for r in all_reasons()}


def get_reason(reason_id: str) -> MovementReason:
    """The reason with this id, or :class:`InvalidInput` (code ``movement_reason.unknown``)."""
    try:
        return _by_id()[reason_id]
    except KeyError:
        raise InvalidInput("異動事由が正しくありません。", code="movement_reason.unknown") from None


def reasons_in(category: ReasonCategory) -> tuple[MovementReason, ...]:
    """The reasons of one 区分 (記載 / 消除 / 修正)."""
    return tuple(r for r in all_reasons() if r.category is category)


#: The reason a notice of each kind records unless the clerk chooses another.
DEFAULT_REASON_IDS: dict[MovementKind, str] = {
    MovementKind.move_in: "entry.move_in_domestic",
    MovementKind.move_in_special: "entry.move_in_domestic",
    MovementKind.move_in_from_abroad: "entry.move_in_from_abroad",
    MovementKind.move_within: "correction.move_within",
    MovementKind.move_out: "removal.move_out_domestic",
    MovementKind.householder_change: "correction.householder_change",
    MovementKind.household_split: "correction.household_split",
    MovementKind.household_merge: "correction.household_merge",
    MovementKind.ex_officio: "entry.ex_officio",
}


def default_reason(kind: MovementKind) -> MovementReason:
    """The default 異動事由 of a 届出の種類."""
    return get_reason(DEFAULT_REASON_IDS[kind])


def reason_for_notice(notice: MovementNotice) -> MovementReason:
    """The 異動事由 of a notice: the default of its kind, 国外転出 when the 転出先 is abroad."""
    if notice.kind is MovementKind.move_out and notice.destination.country not in (None, "JP"):
        return get_reason("removal.move_out_abroad")
    return default_reason(notice.kind)
