"""From read fields to the 住民異動届 (:class:`shared.models.MovementNotice`): a partial, nested
dict the clerk's form opens with. Paths come from the template's ``mapping``.

Two rules beyond "put the value at the path": a name field mapped to ``…family_name`` fills
``family_name`` and ``given_name`` (split at the 全角 space), and an address mapped to an
:class:`~shared.models.movement_notice.Address` is split into 都道府県 / 市区町村 / 町字以下 / 方書.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .fields import split_address


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = target
    for i, part in enumerate(parts):
        m = re.fullmatch(r"([a-z_][a-z0-9_]*)(?:\[(\d*)\])?", part)
        assert m is not None
        name, index = m.group(1), m.group(2)
        last = i == len(parts) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        position = int(index) if index else 0
        while len(items) <= position:
            items.append({})
        if last:
            items[position] = value
        else:
            node = items[position]


def _address(text: str) -> dict[str, str]:
    main, _, building = text.partition("　")
    split = split_address(main)
    if split is None:
        return {"town": main, **({"building": building} if building else {})}
    prefecture, municipality, rest, lg_code = split
    m = re.match(r"^(.*?)([0-9０-９一二三四五六七八九十]+番.*|[0-9０-９]+.*)$", rest)
    town, block = (m.group(1), m.group(2)) if m else (rest, "")
    address = {"prefecture": prefecture, "municipality": municipality, "lg_code": lg_code, "town": town}
    if block:
        address["block_number"] = block
    if building:
        address["building"] = building
    return address


def to_movement_notice(
    values: Mapping[str, str], mapping: Mapping[str, str], kinds: Mapping[str, str]
) -> dict[str, Any]:
    """``values``: field → validated value; ``kinds``: field → zone type. Returns nested data."""
    data: dict[str, Any] = {}
    for field, path in mapping.items():
        value = values.get(field)
        if not value:
            continue
        if kinds[field] == "name" and path.endswith("family_name"):
            family, _, given = value.partition("　")
            _set(data, path, family)
            if given:
                _set(data, path.removesuffix("family_name") + "given_name", given)
        elif kinds[field] == "kana" and path.endswith("family_name_kana"):
            family, _, given = value.partition("　")
            _set(data, path, family)
            if given:
                _set(data, path.removesuffix("family_name_kana") + "given_name_kana", given)
        elif kinds[field] == "address" and "." not in path.split("[")[-1] and not path.startswith("persons"):
            _set(data, path, _address(value))
        else:
            _set(data, path, value)
    return data
