"""住記から入力 (prefill from the register), Qt-free: residents chosen in the imported 住民記録
become the counter form's raw values (the dotted keys of ``MoveInForm.raw_values()``:
``old_address.town``, ``persons.0.family_name`` …) for the procedure at hand, and are merged into
what the clerk has already typed.

Where the register address goes depends on the procedure:

=============  ==================================  =========================================
procedure      register address →                  left to the clerk
=============  ==================================  =========================================
転居           ``old_address`` (従前の住所)          ``new_address`` (the new address in town)
転出           ``old_address`` (the address left)  ``destination`` (転出先)
世帯主変更     ``new_address`` (住所, unchanged)    the new 世帯主's 続柄
職権記載       ``new_address`` (住所 of the entry)  the 異動事由
=============  ==================================  =========================================

The procedure itself goes to ``kind`` (the form switches to it). The register's 世帯主氏名 goes
to ``old_householder``. Names, フリガナ (split at the space into
氏 and 名 where there is one), 生年月日 (as 和暦, as the form shows dates), 性別 and 続柄 go to
``persons.N.*``; a foreign resident's ローマ字氏名 and フリガナ to ``persons.N.roman_name`` and
``persons.N.name_kana``, with ``persons.N.is_foreign``. Keys a form does not have are ignored
by its ``restore_values``.
住民票コード and 個人番号 never come from the register search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.api_counter import ResidentHit
from shared.models.movement_notice import MovementKind
from shared.text.normalize import search_key
from shared.text.wareki import format_wareki

#: The procedures the prefill serves, in the order the dialog offers them.
PREFILL_KINDS: tuple[MovementKind, ...] = (
    MovementKind.move_within,
    MovementKind.move_out,
    MovementKind.householder_change,
    MovementKind.ex_officio,
)
#: Which address of the form receives the register address.
ADDRESS_TARGET: dict[MovementKind, str] = {
    MovementKind.move_within: "old_address",
    MovementKind.move_out: "old_address",
    MovementKind.householder_change: "new_address",
    MovementKind.ex_officio: "new_address",
}
ADDRESS_PARTS = ("postal_code", "prefecture", "municipality", "town", "block_number", "building")
PERSON_PARTS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "relationship",
    "roman_name",
    "name_kana",
)
MAX_PERSONS = 20


def split_kana(kana: str | None) -> tuple[str, str]:
    """``タカハシ イチロウ`` → (タカハシ, イチロウ); without a space everything is the 氏's."""
    if not kana:
        return "", ""
    parts = kana.replace("\u3000", " ").split(maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


def display_name(hit: ResidentHit) -> str:
    if hit.is_foreign:
        return hit.roman_name or ""
    return "\u3000".join(p for p in (hit.family_name, hit.given_name) if p)


def address_values(hit: ResidentHit) -> dict[str, str]:
    """The register address in the form's parts. Rows imported before the parts were kept
    separately only have the joined 住所: it goes to 町字 for the clerk to divide."""
    parts = {
        "postal_code": hit.postal_code or "",
        "prefecture": hit.prefecture or "",
        "municipality": hit.municipality or "",
        "town": hit.town or "",
        "block_number": hit.block_number or "",
        "building": hit.building or "",
    }
    if not any(parts[p] for p in ("prefecture", "municipality", "town", "block_number")) and hit.address:
        parts["town"] = hit.address
    return parts


def person_values(hit: ResidentHit) -> dict[str, str]:
    family_kana, given_kana = split_kana(hit.name_kana)
    values = {
        "birth_date": format_wareki(hit.birth_date),
        "sex": hit.sex,
        "relationship": hit.relationship or "",
    }
    if hit.is_foreign:
        # 外国人住民 on the form's 欄外, else its ローマ字氏名 would be refused as a Japanese's
        values |= {"is_foreign": "1", "roman_name": hit.roman_name or "", "name_kana": hit.name_kana or ""}
    else:
        values |= {
            "family_name": hit.family_name or "",
            "given_name": hit.given_name or "",
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
        }
    return values


def prefill_values(
    kind: MovementKind, persons: Sequence[ResidentHit], *, notifier: ResidentHit | None = None
) -> dict[str, str]:
    """The raw form values for ``kind`` from the chosen residents (the first one's address)."""
    if kind not in ADDRESS_TARGET:
        raise ValueError(f"prefill does not serve {kind}")
    if not persons:
        return {}
    out: dict[str, str] = {"kind": kind.value}  # the form switches to the procedure chosen
    target = ADDRESS_TARGET[kind]
    for part, value in address_values(persons[0]).items():
        out[f"{target}.{part}"] = value
    if persons[0].householder_name:
        out["old_householder"] = persons[0].householder_name
    for i, hit in enumerate(persons[:MAX_PERSONS]):
        for part, value in person_values(hit).items():
            out[f"persons.{i}.{part}"] = value
    if notifier is not None:
        out["notifier.name"] = display_name(notifier)
        out["notifier.standing"] = (
            "self" if any(p.atena_number == notifier.atena_number for p in persons) else ""
        )
    return out


def _persons(values: Mapping[str, str]) -> list[dict[str, str]]:
    by_index: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        head, _, rest = key.partition(".")
        index, _, part = rest.partition(".")
        if head == "persons" and index.isdigit() and part:
            by_index.setdefault(int(index), {})[part] = value
    return [by_index.get(i, {}) for i in range(max(by_index, default=-1) + 1)]


def _same_person(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    def name(p: Mapping[str, str]) -> str:
        return search_key((p.get("family_name") or p.get("roman_name") or "") + (p.get("given_name") or ""))

    return bool(name(a)) and name(a) == name(b)


def _blank(person: Mapping[str, str]) -> bool:
    return not any(v for k, v in person.items() if k != "sex") and not person.get("sex")


def merge_values(current: Mapping[str, str], prefill: Mapping[str, str]) -> dict[str, str]:
    """``current`` with ``prefill`` laid over it, losing no person the clerk typed: a prefilled
    person fills the slot of the same name, else the first blank slot, else a new slot at the end.
    Other keys the prefill gives replace the current text; keys it does not give stay as typed."""
    merged = {k: v for k, v in current.items() if not k.startswith("persons.")}
    merged.update({k: v for k, v in prefill.items() if not k.startswith("persons.")})
    slots = _persons(current)
    for incoming in _persons(prefill):
        if not incoming:
            continue
        at = next((i for i, p in enumerate(slots) if _same_person(p, incoming)), None)
        if at is None:
            at = next((i for i, p in enumerate(slots) if _blank(p)), None)
        if at is None:
            if len(slots) >= MAX_PERSONS:
                continue
            slots.append({})
            at = len(slots) - 1
        slots[at] = {**slots[at], **incoming}
    for i, person in enumerate(slots):
        for part, value in person.items():
            merged[f"persons.{i}.{part}"] = value
    return merged
