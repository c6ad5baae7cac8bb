"""Form values: from the posted HTML form to raw values, and from raw values to checked values.

Raw values are what the resident typed, flat by path (``name``, ``persons.0.person_name``,
``birth_date__era``), plus ``<group>__count``; they are what a draft stores, so nothing typed is
ever lost. :func:`validate` turns them into clean, typed values and field errors, evaluating the
JSON Logic rules on the clean values (inside a group the item's own values come first). Hidden
fields are neither validated nor kept. 個人番号 never enters raw values: :func:`take_input`
hands it back separately so that it is encrypted at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.domain.eforms.logic import holds
from shared.errors import InvalidInput
from shared.schemas.eform import EformField, EformFieldType, EformProcedure
from shared.text.checkdigit import corporate_number_check_digit, normalize_my_number
from shared.text.normalize import is_katakana, to_fullwidth_katakana, to_halfwidth_alnum
from shared.text.wareki import ERAS, from_wareki, parse_date

T = EformFieldType
Raw = dict[str, Any]

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ERA_CHOICES = [(e.name, e.name) for e in reversed(ERAS)]
#: Inputs that are not values of the form (buttons, keys).
RESERVED = {"action", "csrf"}


def corporate_number_ok(digits: str) -> bool:
    """法人番号: 13 ASCII digits whose check digit (the first) matches (``shared.text.checkdigit``)."""
    return (
        len(digits) == 13
        and digits.isascii()
        and digits.isdigit()
        and corporate_number_check_digit(digits[1:]) == int(digits[0])
    )


@dataclass
class Posted:
    """What one POST carried besides the raw values."""

    my_numbers: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)  # path -> UploadFile
    removed_files: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)


def leaf_paths(definition: EformProcedure, raw: Mapping[str, Any]) -> Iterable[tuple[str, EformField]]:
    """Every input path of the form with its field, groups expanded to their current count."""
    for f in definition.fields:
        if f.type == T.group:
            for i in range(group_count(f, raw)):
                for child in f.fields:
                    yield f"{f.name}.{i}.{child.name}", child
        elif f.type != T.heading:
            yield f.name, f


def group_count(f: EformField, raw: Mapping[str, Any]) -> int:
    """Items of a group in ``raw`` (at least ``min_repeat``; never more than the maximum)."""
    try:
        count = int(raw.get(f"{f.name}__count", f.min_repeat))
    except (TypeError, ValueError):
        count = f.min_repeat
    return max(f.min_repeat, min(count, f.max_repeat or 0))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def take_input(
    definition: EformProcedure, form: Mapping[str, list[Any]], previous: Raw, action: str
) -> tuple[Raw, Posted]:
    """Raw values from a posted form (``form``: name → list of values), and what else it carried.

    ``action`` ``add:<group>`` / ``remove:<group>:<index>`` changes a group's item count; a count
    above the group's maximum (a tampered hidden field) is an error on the group.
    """
    raw: Raw = {}
    posted = Posted()
    for f in definition.fields:
        if f.type != T.group:
            continue
        key = f"{f.name}__count"
        try:
            count = int(_first(form.get(key)) or previous.get(key, f.min_repeat))
        except ValueError:
            count = f.min_repeat
        if count > (f.max_repeat or 0) or count < 0:
            posted.errors[f.name] = f"{f.label}は{f.max_repeat}件までです。"
            count = f.max_repeat or 0
        raw[key] = max(count, f.min_repeat)
    for path, f in leaf_paths(definition, raw):
        values = form.get(path, [])
        if f.type == T.my_number:
            typed = _text(_first(values)).strip()
            if typed:
                posted.my_numbers[path] = typed
        elif f.type == T.file:
            upload = next((v for v in values if hasattr(v, "read") and getattr(v, "filename", None)), None)
            if upload is not None:
                posted.files[path] = upload
            if _first(form.get(f"{path}__remove")):
                posted.removed_files.add(path)
            elif previous.get(path):
                raw[path] = previous[path]
        elif f.type == T.checkbox:
            raw[path] = [v for v in values if isinstance(v, str)]
        elif f.type == T.date and f.wareki:
            for part in ("era", "y", "m", "d"):
                raw[f"{path}__{part}"] = _text(_first(form.get(f"{path}__{part}")))[:10]
        else:
            raw[path] = _text(_first(values))[:5000]
    _apply_action(definition, raw, action, posted)
    return raw, posted


def _first(values: Any) -> Any:
    if isinstance(values, list):
        return values[0] if values else None
    return values


def _apply_action(definition: EformProcedure, raw: Raw, action: str, posted: Posted) -> None:
    kind, _, rest = action.partition(":")
    group = definition.field(rest.split(":")[0]) if rest else None
    if group is None or group.type != T.group:
        return
    key = f"{group.name}__count"
    if kind == "add":
        if raw[key] >= (group.max_repeat or 0):
            posted.errors[group.name] = f"{group.label}は{group.max_repeat}件までです。"
        else:
            raw[key] += 1
    elif kind == "remove":
        try:
            index = int(rest.split(":")[1])
        except (IndexError, ValueError):
            return
        if not 0 <= index < raw[key] or raw[key] <= group.min_repeat:
            return
        prefix = f"{group.name}."
        moved: Raw = {}
        for k, v in list(raw.items()):
            if k.startswith(prefix):
                del raw[k]
                i_text, _, tail = k[len(prefix) :].partition(".")
                i = int(i_text)
                if i != index:
                    moved[f"{prefix}{i - 1 if i > index else i}.{tail}"] = v
        raw.update(moved)
        raw[key] -= 1


def seal_my_numbers(posted: Posted) -> dict[str, str]:
    """The valid 個人番号 of a post (path → 12 digits); wrong ones become field errors."""
    valid: dict[str, str] = {}
    for path, typed in posted.my_numbers.items():
        try:
            valid[path] = normalize_my_number(typed)
        except InvalidInput as exc:
            posted.errors[path] = exc.message
    return valid


@dataclass
class Checked:
    """Clean values (nested; groups as lists) and errors by path, in form order."""

    values: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean(f: EformField, path: str, raw: Raw, sealed: Mapping[str, Any]) -> Any:
    """The typed value of one field, None when empty; raises InvalidInput for a wrong value."""
    if f.type == T.my_number:
        return "sealed" if path in sealed else None
    if f.type == T.date and f.wareki:
        parts = [_text(raw.get(f"{path}__{p}")).strip() for p in ("era", "y", "m", "d")]
        if not any(parts[1:]):
            return None
        try:
            y, m, d = (int(to_halfwidth_alnum(p)) for p in parts[1:])
        except ValueError:
            raise InvalidInput("年・月・日を数字で入力してください。") from None
        return from_wareki(parts[0] or "令和", y, m, d).isoformat()
    value = raw.get(path)
    if f.type == T.checkbox:
        chosen = [v for v in value or [] if isinstance(v, str)]
        allowed = {o.value for o in f.options} or {"on"}
        if any(v not in allowed for v in chosen):
            raise InvalidInput("選択肢の中から選んでください。")
        return chosen or None
    if f.type == T.file:
        return value or None
    text = unicodedata.normalize("NFC", _text(value)).strip()
    if not text:
        return None
    if _CONTROL.search(text):
        raise InvalidInput("使えない文字が含まれています。")
    if f.max_length and len(text) > f.max_length:
        raise InvalidInput(f"{f.max_length}文字以内で入力してください。")
    if f.type in (T.text, T.address) and "\n" in text:
        raise InvalidInput("改行は入力できません。")
    if f.type == T.kana:
        kana = to_fullwidth_katakana(text).replace(" ", "　")
        if not is_katakana(kana):
            raise InvalidInput("カタカナで入力してください。")
        return kana
    if f.type == T.number:
        try:
            number = int(to_halfwidth_alnum(text).replace(",", ""))
        except ValueError:
            raise InvalidInput("数字で入力してください。") from None
        if f.min is not None and number < f.min:
            raise InvalidInput(f"{f.min:g}以上で入力してください。")
        if f.max is not None and number > f.max:
            raise InvalidInput(f"{f.max:g}以下で入力してください。")
        return number
    if f.type == T.date:
        return parse_date(text).isoformat()
    if f.type == T.email:
        email = to_halfwidth_alnum(text)
        if len(email) > 254 or not _EMAIL.match(email):
            raise InvalidInput("メールアドレスの形式が正しくありません。")
        return email
    if f.type == T.tel:
        digits = to_halfwidth_alnum(text).replace("-", "").replace("ー", "").replace("－", "")
        if not digits.isdigit() or not 10 <= len(digits) <= 11:
            raise InvalidInput("電話番号は10桁または11桁の数字で入力してください。")
        return digits
    if f.type == T.postal_code:
        digits = to_halfwidth_alnum(text).replace("-", "").replace("－", "").replace("ー", "")
        if len(digits) != 7 or not digits.isdigit():
            raise InvalidInput("郵便番号は7桁の数字で入力してください。")
        return f"{digits[:3]}-{digits[3:]}"
    if f.type == T.corporate_number:
        digits = to_halfwidth_alnum(text).replace("-", "")
        if not corporate_number_ok(digits):
            raise InvalidInput("法人番号は13桁で、検査用数字が一致するものを入力してください。")
        return digits
    if f.type in (T.select, T.radio) and text not in {o.value for o in f.options}:
        raise InvalidInput("選択肢の中から選んでください。")
    return text


def _check_fields(
    fields: list[EformField],
    prefix: str,
    raw: Raw,
    sealed: Mapping[str, Any],
    context: Mapping[str, Any],
    errors: dict[str, str],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errs: dict[str, str] = {}
    for f in fields:
        if f.type in (T.group, T.heading):
            continue
        path = f"{prefix}{f.name}"
        try:
            values[f.name] = _clean(f, path, raw, sealed)
        except InvalidInput as exc:
            values[f.name] = None
            errs[path] = exc.message
    scope = {**context, **values}
    for f in fields:
        if f.type in (T.group, T.heading):
            continue
        path = f"{prefix}{f.name}"
        if not holds(f.visible_if, scope):
            values.pop(f.name, None)
            errs.pop(path, None)
            continue
        required = f.required or (f.required_if is not None and holds(f.required_if, scope))
        if required and values.get(f.name) in (None, "", []) and path not in errs:
            errs[path] = "選択してください。" if f.type in (T.select, T.radio) else "入力してください。"
            if f.type == T.file:
                errs[path] = "ファイルを添付してください。"
    errors.update(errs)
    return {k: v for k, v in values.items() if v is not None}


def validate(definition: EformProcedure, raw: Raw, sealed: Mapping[str, Any]) -> Checked:
    """Clean values and every field error (visibility and requirement rules applied)."""
    errors: dict[str, str] = {}
    top = _check_fields(definition.fields, "", raw, sealed, {}, errors)
    for f in definition.fields:
        if f.type != T.group or not holds(f.visible_if, top):
            continue
        items = []
        for i in range(group_count(f, raw)):
            item = _check_fields(f.fields, f"{f.name}.{i}.", raw, sealed, top, errors)
            items.append(item)
        top[f.name] = items
    ordered = {p: errors[p] for p in _order(definition, raw) if p in errors}
    return Checked(top, ordered)


def visible_paths(
    definition: EformProcedure, raw: Raw, sealed: Mapping[str, Any]
) -> list[tuple[str, EformField]]:
    """Input paths shown under the rules for these values, in form order (groups expanded)."""
    top = validate(definition, raw, sealed).values
    paths: list[tuple[str, EformField]] = []
    for f in definition.fields:
        if f.type == T.heading or not holds(f.visible_if, top):
            continue
        if f.type != T.group:
            paths.append((f.name, f))
            continue
        for i, item in enumerate(top.get(f.name, [])):
            scope = {**top, **item}
            paths.extend(
                (f"{f.name}.{i}.{c.name}", c)
                for c in f.fields
                if c.type != T.heading and holds(c.visible_if, scope)
            )
    return paths


def keys_of(path: str, raw: Mapping[str, Any]) -> list[str]:
    """The raw keys that hold ``path``'s value (``birth_date__era`` … for a 和暦 date)."""
    return [k for k in raw if k == path or k.startswith(f"{path}__")]


def _order(definition: EformProcedure, raw: Raw) -> list[str]:
    paths: list[str] = []
    for f in definition.fields:
        paths.append(f.name)
        if f.type == T.group:
            paths.extend(p for p, _ in leaf_paths(definition, raw) if p.startswith(f"{f.name}."))
    return paths


def label_of(definition: EformProcedure, path: str) -> str:
    """The label of ``path`` as a resident reads it (``必要な人 2件目 氏名``)."""
    parts = path.split(".")
    f = definition.field(parts[0])
    if f is None:
        return path
    if len(parts) == 3:
        child = next((c for c in f.fields if c.name == parts[2]), None)
        return f"{f.label} {int(parts[1]) + 1}件目 {child.label if child else parts[2]}"
    return f.label
