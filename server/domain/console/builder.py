"""Form builder (フォーム作成): the staff console's editor of a procedure definition, without JS.

The whole edit state travels in the posted form (``fields.0.label``, ``fields.2.fields.1.type``,
``mails.submitted.subject`` …), so 追加 / 削除 / 上へ / 下へ work without JavaScript and nothing
typed is lost. Saving turns the state into an :class:`EformProcedure` — the same schema the
portal renders and the server validates submissions with — and every problem comes back as a
Japanese message keyed by the input's name (``fields.2.visible_if``) for the field and the summary.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from server.domain.eforms.services import starter_folder
from shared.errors import InvalidInput, describe_validation_errors
from shared.schemas._common import FIELD_NAME, SLUG
from shared.schemas.eform import (
    MAX_FIELDS,
    MAX_FILE_MB,
    MAX_GROUP_FIELDS,
    ApplicantType,
    EformField,
    EformFieldType,
    EformProcedure,
    JpkiSigners,
    MailEvent,
    PaymentMode,
)
from shared.text.wareki import parse_date
from shared.yamlfile import load_yaml

JST = ZoneInfo("Asia/Tokyo")
SLUG_MAX = 80
RULE_MAX_CHARS = 4000
RULE_MAX_DEPTH = 16

#: Longest text per input (hostile or pasted-in-by-mistake text is refused, not cut).
TEXT_LIMITS = {
    "title": 200,
    "description": 4000,
    "category": 100,
    "contact": 500,
    "homepage": 500,
    "fee": 200,
    "keywords": 1000,
    "bring": 2000,
    "label": 200,
    "help": 1000,
    "options": 4000,
    "subject": 200,
    "body": 4000,
}

TYPE_LABELS: dict[EformFieldType, str] = {
    EformFieldType.text: "1行の文字",
    EformFieldType.textarea: "複数行の文字",
    EformFieldType.kana: "フリガナ",
    EformFieldType.number: "数値",
    EformFieldType.date: "日付",
    EformFieldType.email: "メールアドレス",
    EformFieldType.tel: "電話番号",
    EformFieldType.postal_code: "郵便番号（住所を検索）",
    EformFieldType.address: "住所",
    EformFieldType.select: "選択（プルダウン）",
    EformFieldType.radio: "選択（ラジオボタン）",
    EformFieldType.checkbox: "チェックボックス",
    EformFieldType.my_number: "個人番号",
    EformFieldType.corporate_number: "法人番号",
    EformFieldType.file: "添付ファイル",
    EformFieldType.group: "繰り返し要素",
    EformFieldType.heading: "見出し（入力なし）",
}
APPLICANT_LABELS = {
    ApplicantType.individual: "個人",
    ApplicantType.corporation: "法人",
    ApplicantType.group: "団体",
}
#: The field in which the applicant says whether he applies as 個人, 法人 or 団体: needed when a
#: procedure admits more than one type (the console lists, filters and exports by it, and
#: conditions show / require fields per type); its options are exactly the admitted types.
APPLICANT_FIELD = "applicant_type"
#: 差戻し mails also fill in the items to fix and the link to the correction page.
RETURN_PLACEHOLDERS = ("fields", "fix_url")
MAIL_LABELS: dict[MailEvent, str] = {
    MailEvent.submitted: "申請を受け付けたとき",
    MailEvent.withdrawn: "利用者が取り下げたとき",
    MailEvent.reviewed: "審査が完了したとき",
    MailEvent.rejected: "不受理としたとき",
    MailEvent.completed: "対応が完了したとき",
    MailEvent.payment_requested: "決済をお願いするとき（事後決済）",
    MailEvent.refunded: "返金したとき",
    MailEvent.returned: "差戻ししたとき",
}
PAYMENT_LABELS = {
    PaymentMode.none: "なし",
    PaymentMode.prepayment: "事前決済（申請時に確定）",
    PaymentMode.postpayment: "事後決済（職員が金額を入力）",
}
PLACEHOLDERS = (
    "title",
    "reference",
    "status",
    "amount",
    "url",
    "name",
    "comment",
    "pay_url",
    *RETURN_PLACEHOLDERS,
)
#: The condition editor (表示条件・必須条件): operators a staff member picks, per type of the field
#: the condition looks at; each row becomes one JSON Logic comparison.
COND_OPS = {
    "eq": "＝（等しい）",
    "ne": "≠（等しくない）",
    "filled": "空でない",
    "contains": "含む（チェックボックス）",
    "gt": "＞（より大きい）",
    "lt": "＜（より小さい）",
}
COND_JOINS = {"and": "すべて満たす", "or": "いずれかを満たす"}
COND_KINDS = {"vis": "表示条件", "req": "必須条件"}
COND_MAX = 10
#: Field types a condition may look at (no group, heading, file or sealed 個人番号).
COND_TYPES = frozenset(
    t.value
    for t in EformFieldType
    if t not in (EformFieldType.group, EformFieldType.heading, EformFieldType.file, EformFieldType.my_number)
)
_OP_LOGIC = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<"}


def ops_for(kind: str) -> tuple[str, ...]:
    """The operators the editor offers for a field of type ``kind``."""
    if kind == "checkbox":
        return ("contains", "filled")
    if kind in ("number", "date"):
        return ("eq", "ne", "gt", "lt", "filled")
    return ("eq", "ne", "filled")


LOGIC_OPS = frozenset(
    "var missing and or if ! !! + * == != === !== > >= < <= in - / %".split()  # noqa: SIM905
)
FIELD_KEYS = (
    "name",
    "label",
    "type",
    "required",
    "help",
    "options",
    "max_length",
    "min",
    "max",
    "wareki",
    "address_field",
    "name_field",
    "visible_if",
    "required_if",
    "max_repeat",
    "min_repeat",
    "vis_join",
    "req_join",
    "show_required",
    "keep",
)
#: Properties of a field / a procedure the builder has inputs for. Any other property of the
#: schema travels through the page untouched in a hidden ``keep`` input (JSON), so saving a
#: definition in the builder never drops what the builder does not show.
_FIELD_PROPS = "name label type required help options max_length min max wareki address_field name_field"
_PROCEDURE_PROPS = "slug title description category keywords bring fee contact homepage applicant_types"
EDITED_FIELD_PROPS = frozenset(
    (_FIELD_PROPS + " visible_if required_if fields max_repeat min_repeat").split()
)
EDITED_PROCEDURE_PROPS = frozenset(
    (_PROCEDURE_PROPS + " guest_allowed jpki_required jpki_signers uploads payment mails fields").split()
)
KEEP_MAX_CHARS = 8000
#: Types a 法人番号 field may fill with the 名称 / 所在地 it finds (the schema's rule).
CORPORATE_TARGETS = ("text", "textarea", "address")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_INDEXED = re.compile(r"^fields\.(\d{1,3})\.(?:fields\.(\d{1,3})\.)?([a-z_]+)$")
_COND = re.compile(r"^fields\.(\d{1,3})\.(?:fields\.(\d{1,3})\.)?(vis|req)\.(\d{1,2})\.(field|op|value)$")

State = dict[str, Any]


# ---------------------------------------------------------------- definition ↔ state


def _rule_text(rule: Any) -> str:
    return json.dumps(rule, ensure_ascii=False) if rule else ""


def _num_text(value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _var_name(node: Any) -> str | None:
    if isinstance(node, dict) and list(node) == ["var"]:
        name = node["var"]
        if isinstance(name, list) and len(name) == 1:
            name = name[0]
        if isinstance(name, str):
            return name
    return None


def _cond_row(rule: Any) -> dict[str, str] | None:
    """One editor row (field, op, value) if ``rule`` is a comparison the editor writes."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    op, args = next(iter(rule.items()))
    if op == "!!":
        name = _var_name(args[0] if isinstance(args, list) and len(args) == 1 else args)
        return {"field": name, "op": "filled", "value": ""} if name else None
    if not isinstance(args, list) or len(args) != 2:
        return None
    if op == "in":
        name, value = _var_name(args[1]), args[0]
        kind = "contains"
    else:
        kind = next((k for k, v in _OP_LOGIC.items() if v == op), "")
        name, value = _var_name(args[0]), args[1]
    if not kind or not name or isinstance(value, dict | list | bool) or value is None:
        return None
    return {"field": name, "op": kind, "value": _num_text(value)}


def rows_of(rule: Any) -> tuple[str, list[dict[str, str]]] | None:
    """(join, rows) of a rule the condition editor can show back; None for other JSON Logic."""
    if rule is None:
        return "and", []
    single = _cond_row(rule)
    if single is not None:
        return "and", [single]
    if isinstance(rule, dict) and len(rule) == 1:
        join, args = next(iter(rule.items()))
        if join in COND_JOINS and isinstance(args, list) and 0 < len(args) <= COND_MAX:
            rows = [_cond_row(a) for a in args]
            if all(r is not None for r in rows):
                return join, [r for r in rows if r is not None]
    return None


def _kept(model: Any, edited: frozenset[str]) -> str:
    """The properties of ``model`` the builder has no input for (set ones only), as JSON."""
    data = model.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    rest = {k: v for k, v in data.items() if k not in edited}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else ""


def _field_state(f: Any) -> dict[str, Any]:
    vis = rows_of(f.visible_if)
    both = bool(vis and vis[1]) and f.required_if == f.visible_if
    req = ("and", []) if both else rows_of(f.required_if)
    return {
        "name": f.name,
        "label": f.label,
        "type": f.type.value,
        "required": f.required,
        "help": f.help or "",
        "options": "\n".join(f"{o.value}:{o.label}" for o in f.options),
        "max_length": _num_text(f.max_length),
        "min": _num_text(f.min),
        "max": _num_text(f.max),
        "wareki": f.wareki,
        "address_field": f.address_field or "",
        "name_field": f.name_field or "",
        "keep": _kept(f, EDITED_FIELD_PROPS),
        "visible_if": "" if vis else _rule_text(f.visible_if),
        "required_if": "" if req else _rule_text(f.required_if),
        "vis": vis[1] if vis else [],
        "vis_join": vis[0] if vis else "and",
        "req": req[1] if req else [],
        "req_join": req[0] if req else "and",
        "show_required": both,
        "max_repeat": _num_text(f.max_repeat),
        "min_repeat": _num_text(f.min_repeat) if f.type == EformFieldType.group else "",
        "fields": [_field_state(c) for c in f.fields],
    }


def _local(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M") if value else ""


def state_of(
    d: EformProcedure,
    *,
    organisation_id: str = "",
    publish_from: datetime | None = None,
    publish_until: datetime | None = None,
) -> State:
    """The builder state of a definition (and the procedure row's own settings)."""
    return {
        "slug": d.slug,
        "title": d.title,
        "description": d.description,
        "category": d.category,
        "keywords": " ".join(d.keywords),
        "bring": "\n".join(d.bring),
        "fee": d.fee or "",
        "contact": d.contact or "",
        "homepage": d.homepage or "",
        "organisation_id": organisation_id,
        "publish_from": _local(publish_from),
        "publish_until": _local(publish_until),
        "applicant_types": [t.value for t in d.applicant_types],
        "guest_allowed": d.guest_allowed,
        "jpki_required": d.jpki_required,
        "jpki_signers": d.jpki_signers.value,
        "extensions": ", ".join(d.uploads.extensions),
        "max_file_mb": str(d.uploads.max_file_mb),
        "payment_mode": d.payment.mode.value,
        "payment_amount": _num_text(d.payment.amount),
        "payment_amount_per": d.payment.amount_per or "",
        "mails": {e.value: {"subject": t.subject, "body": t.body} for e, t in d.mails.items()},
        "fields": [_field_state(f) for f in d.fields],
        "keep": _kept(d, EDITED_PROCEDURE_PROPS),
    }


def blank_field(kind: str = "text") -> dict[str, Any]:
    return {
        "name": "",
        "label": "",
        "type": kind,
        "required": False,
        "help": "",
        "options": "",
        "max_length": "",
        "min": "",
        "max": "",
        "wareki": False,
        "address_field": "",
        "name_field": "",
        "keep": "",
        "visible_if": "",
        "required_if": "",
        "vis": [],
        "vis_join": "and",
        "req": [],
        "req_join": "and",
        "show_required": False,
        "max_repeat": "5" if kind == "group" else "",
        "min_repeat": "0" if kind == "group" else "",
        "fields": [],
    }


def blank_state() -> State:
    d = EformProcedure(
        slug="new-procedure",
        title="新しい手続き",
        fields=[{"name": "name", "label": "氏名", "type": "text", "required": True}],
    )
    state = state_of(d)
    state["slug"], state["title"] = "", ""
    return state


@dataclass
class Starter:
    slug: str
    title: str
    definition: EformProcedure


def starters(folder: Path | None = None) -> list[Starter]:
    """The starter templates (form_templates/eforms), examples included."""
    out = []
    for path in sorted((folder or starter_folder()).glob("*.yaml")):
        d = EformProcedure.model_validate(load_yaml(path.read_text(encoding="utf-8")))
        out.append(Starter(d.slug, d.title, d))
    return out


# ---------------------------------------------------------------- posted form → state


def _bool(form: Mapping[str, list[Any]], key: str) -> bool:
    return any(str(v) in ("1", "on", "true") for v in form.get(key, []))


def _text(form: Mapping[str, list[Any]], key: str) -> str:
    values = form.get(key) or [""]
    return unicodedata.normalize("NFC", str(values[-1]).replace("\r\n", "\n"))[:20000]


def state_from_form(form: Mapping[str, list[Any]]) -> State:
    """Everything the builder page posted, as a state (nothing typed is dropped)."""
    state: State = {
        k: _text(form, k)
        for k in (
            "slug",
            "title",
            "description",
            "category",
            "keywords",
            "bring",
            "fee",
            "contact",
            "homepage",
            "organisation_id",
            "publish_from",
            "publish_until",
            "extensions",
            "max_file_mb",
            "payment_mode",
            "payment_amount",
            "payment_amount_per",
            "keep",
        )
    }
    state["applicant_types"] = [str(v) for v in form.get("applicant_types", [])][:3]
    state["guest_allowed"] = _bool(form, "guest_allowed")
    state["jpki_required"] = _bool(form, "jpki_required")
    signers = _text(form, "jpki_signers")
    state["jpki_signers"] = signers if signers in JpkiSigners.__members__ else JpkiSigners.individual.value
    state["mails"] = {}
    for event in MailEvent:
        subject = _text(form, f"mails.{event.value}.subject")
        body = _text(form, f"mails.{event.value}.body")
        if subject or body:
            state["mails"][event.value] = {"subject": subject, "body": body}
    top: dict[int, dict[str, Any]] = {}
    children: dict[tuple[int, int], dict[str, Any]] = {}
    for key in form:
        m = _INDEXED.match(key)
        if not m or m.group(3) not in FIELD_KEYS:
            continue
        i, j, attr = int(m.group(1)), m.group(2), m.group(3)
        target = top.setdefault(i, {}) if j is None else children.setdefault((i, int(j)), {})
        flag = attr in ("required", "wareki", "show_required")
        target[attr] = _bool(form, key) if flag else _text(form, key)
    conds: dict[tuple[int, int | None, str], dict[int, dict[str, str]]] = {}
    for key in form:
        m = _COND.match(key)
        if m:
            where = (int(m.group(1)), int(m.group(2)) if m.group(2) else None, m.group(3))
            conds.setdefault(where, {}).setdefault(int(m.group(4)), {})[m.group(5)] = _text(form, key)
    for (i, j, kind), rows in conds.items():
        owner = top.get(i) if j is None else children.get((i, j))
        if owner is None:
            continue
        owner[kind] = [
            {"field": "", "op": "eq", "value": "", **rows[k]}
            for k in sorted(rows)
            if rows[k].get("field", "").strip() or rows[k].get("value", "").strip()
        ]
    fields = []
    for i in sorted(top):
        f = {**blank_field(), **top[i]}
        f["fields"] = [
            {**blank_field(), **children[(i, j)], "fields": []} for (ci, j) in sorted(children) if ci == i
        ]
        fields.append(f)
    state["fields"] = fields
    return state


# ---------------------------------------------------------------- structural actions


def _locate(state: State, path: str) -> tuple[list[dict[str, Any]], int] | None:
    parts = path.split(".")
    try:
        if len(parts) == 1:
            return state["fields"], int(parts[0])
        if len(parts) == 2:
            return state["fields"][int(parts[0])]["fields"], int(parts[1])
    except (ValueError, IndexError, KeyError):
        return None
    return None


def apply(state: State, action: str) -> str | None:
    """Apply 追加 / 削除 / 上へ / 下へ (and 条件の追加・削除) to the state; a Japanese message if it
    cannot be done."""
    verb, _, arg = action.partition(":")
    if verb == "refresh":  # 値の選択肢を表示 (no JavaScript): the page is drawn again, nothing changes
        return None
    if verb == "applicant_field":
        return _applicant_field(state)
    if verb in ("add_cond", "del_cond"):
        path, _, rest = arg.partition(":")
        kind, _, row = rest.partition(":")
        located = _locate(state, path)
        if located is None or not (0 <= located[1] < len(located[0])) or kind not in COND_KINDS:
            return "項目が見つかりません。"
        rows = located[0][located[1]][kind]
        if verb == "add_cond":
            if len(rows) >= COND_MAX:
                return f"条件は1つの項目につき{COND_MAX}個までです。"
            rows.append({"field": "", "op": "eq", "value": ""})
        elif row.isdigit() and int(row) < len(rows):
            rows.pop(int(row))
        return None
    if verb == "add":
        if len(state["fields"]) >= MAX_FIELDS:
            return f"項目は{MAX_FIELDS}個までです。"
        state["fields"].append(blank_field(arg if arg in EformFieldType.__members__ else "text"))
        return None
    if verb == "add_child":
        located = _locate(state, arg)
        if located is None or not (0 <= located[1] < len(located[0])):
            return "項目が見つかりません。"
        group = located[0][located[1]]
        if len(group["fields"]) >= MAX_GROUP_FIELDS:
            return f"繰り返し要素の項目は{MAX_GROUP_FIELDS}個までです。"
        group["fields"].append(blank_field())
        return None
    located = _locate(state, arg)
    if located is None or not (0 <= located[1] < len(located[0])):
        return "項目が見つかりません。"
    items, i = located
    if verb == "remove":
        items.pop(i)
    elif verb == "up" and i > 0:
        items[i - 1], items[i] = items[i], items[i - 1]
    elif verb == "down" and i < len(items) - 1:
        items[i + 1], items[i] = items[i], items[i + 1]
    return None


def _applicant_field(state: State) -> str | None:
    """Put the 申請者の種別 field first (or fix the one there): a required radio whose options are
    the chosen applicant types."""
    types = [t for t in ApplicantType if t.value in state["applicant_types"]]
    if not types:
        return "先に申請者の属性（個人・法人・団体）を選んでください。"
    options = "\n".join(f"{t.value}:{APPLICANT_LABELS[t]}" for t in types)
    found = next((f for f in state["fields"] if f["name"].strip() == APPLICANT_FIELD), None)
    if found is None:
        if len(state["fields"]) >= MAX_FIELDS:
            return f"項目は{MAX_FIELDS}個までです。"
        found = blank_field("radio")
        found.update({"name": APPLICANT_FIELD, "label": "申請者の種別"})
        state["fields"].insert(0, found)
    if found["type"] not in ("radio", "select"):
        found["type"] = "radio"
    found["options"], found["required"] = options, True
    return None


def _check_applicant_field(errors: dict[str, str], data: dict[str, Any], types: list[str]) -> None:
    """With more than one applicant type the form must ask which one (see APPLICANT_FIELD)."""
    at = next((i for i, f in enumerate(data["fields"]) if f["name"] == APPLICANT_FIELD), None)
    if at is None:
        if len(types) > 1:
            errors.setdefault(
                "applicant_types",
                "申請者の属性を2つ以上選んだときは、申請者が種別を選ぶ項目（項目名 applicant_type）が"
                "必要です。「申請者の種別を選ぶ項目を入れる」を押してください。",
            )
        return
    f = data["fields"][at]
    values = [o["value"] for o in f.get("options", [])]
    if f["type"] not in ("radio", "select") or not f["required"] or sorted(values) != sorted(types):
        errors.setdefault(
            f"fields.{at}.options",
            "申請者の種別の項目（applicant_type）は必須の選択（ラジオボタンかプルダウン）にし、選択肢を選んだ属性"
            "（individual:個人 / corporation:法人 / group:団体）と同じにしてください。"
            "「申請者の種別を選ぶ項目を入れる」で直せます。",
        )


# ---------------------------------------------------------------- state → definition


@dataclass
class Built:
    definition: EformProcedure | None
    errors: dict[str, str] = field(default_factory=dict)
    publish_from: datetime | None = None
    publish_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.definition is not None and not self.errors


def _check_text(errors: dict[str, str], key: str, value: str, limit: str, *, multiline: bool = False) -> str:
    value = value.strip()
    if len(value) > TEXT_LIMITS[limit]:
        errors.setdefault(key, f"{TEXT_LIMITS[limit]}文字以内で入力してください（現在{len(value)}文字）。")
    elif _CONTROL.search(value) or (not multiline and "\n" in value):
        errors.setdefault(key, "使えない文字（制御文字・改行）が含まれています。")
    return value


def _depth(rule: Any) -> int:
    if isinstance(rule, dict):
        return 1 + max((_depth(v) for v in rule.values()), default=0)
    if isinstance(rule, list):
        return 1 + max((_depth(v) for v in rule), default=0)
    return 0


def check_rule(rule: Any, known: set[str]) -> str | None:
    """None if ``rule`` is a JSON Logic object the portal can evaluate over the ``known`` fields."""
    if not isinstance(rule, dict) or not rule:
        return '条件は {"==": [{"var": "項目名"}, "値"]} のような JSON オブジェクトで書いてください。'
    if _depth(rule) > RULE_MAX_DEPTH:
        return "条件式が深すぎます。"

    def walk(node: Any) -> str | None:
        if isinstance(node, list):
            for n in node:
                found = walk(n)
                if found:
                    return found
            return None
        if not isinstance(node, dict):
            return None
        if len(node) != 1:
            return "条件式の各要素は演算子を1つだけ持つオブジェクトにしてください。"
        op, arg = next(iter(node.items()))
        if op not in LOGIC_OPS:
            return f"条件式に使えない演算子「{str(op)[:20]}」があります。"
        if op == "var":
            name = arg[0] if isinstance(arg, list) and arg else arg
            if not isinstance(name, str) or name.split(".")[0] not in known:
                return f"条件式の項目「{str(name)[:40]}」がフォームにありません。"
            return None
        return walk(arg)

    return walk(rule)


def _parse_rule(errors: dict[str, str], key: str, text: str, known: set[str]) -> Any:
    text = text.strip()
    if not text:
        return None
    if len(text) > RULE_MAX_CHARS:
        errors[key] = f"条件式は{RULE_MAX_CHARS}文字以内で書いてください。"
        return None
    try:
        rule = json.loads(text)
    except ValueError:
        errors[key] = "条件式が JSON として読めません（括弧・引用符を確認してください）。"
        return None
    problem = check_rule(rule, known)
    if problem:
        errors[key] = problem
        return None
    return rule


def _int(errors: dict[str, str], key: str, text: str, lo: int, hi: int, what: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,9}", text):
        errors[key] = f"{what}は整数で入力してください。"
        return None
    value = int(text)
    if not lo <= value <= hi:
        errors[key] = f"{what}は{lo}から{hi}までの整数で入力してください。"
        return None
    return value


def _float(errors: dict[str, str], key: str, text: str, what: str) -> float | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[key] = f"{what}は数値で入力してください。"
        return None
    if value != value or abs(value) > 1e12:
        errors[key] = f"{what}の値が正しくありません。"
        return None
    return value


def _options(errors: dict[str, str], key: str, text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        value, sep, label = line.partition(":")
        value, label = value.strip(), (label.strip() if sep else value.strip())
        if not value or not label:
            errors.setdefault(key, f"選択肢の{n}行目は「値:表示名」の形で書いてください。")
        elif value in seen:
            errors.setdefault(key, f"選択肢の値「{value[:40]}」が重複しています。")
        seen.add(value)
        out.append({"value": value, "label": label})
    if len(out) > 100:
        errors.setdefault(key, "選択肢は100個までです。")
    return out


CHOICE_TYPES = ("select", "radio", "checkbox")


def option_pairs(text: str) -> list[tuple[str, str]]:
    """(value, label) of an options text as the builder reads it (bad lines left out)."""
    pairs = []
    for line in text.splitlines()[:100]:
        value, sep, label = line.strip().partition(":")
        value, label = value.strip(), (label.strip() if sep else value.strip())
        if value and label:
            pairs.append((value, label))
    return pairs


def value_choices(candidates: list[dict[str, Any]], name: str) -> list[tuple[str, str]]:
    """The options a condition row's value may be picked from: those of the field ``name`` among
    ``candidates`` when it is a select / radio / checkbox, else none (the value is typed)."""
    found = next((f for f in candidates if f["name"].strip() == name.strip() and name.strip()), None)
    if found is None or found["type"] not in CHOICE_TYPES:
        return []
    return option_pairs(found["options"])


def _not_before(name: str) -> str:
    return (
        f"条件の項目「{name[:40]}」がこの項目より前にありません（削除されたか、名前が変わったか、"
        "後ろにあります）。項目を選び直すか、この条件を削除してください。"
    )


def _cond_value(errors: dict[str, str], key: str, kind: str, text: str) -> Any:
    """The value a condition compares with, typed like the field it looks at."""
    if kind == "number":
        value = _float(errors, key, text, "比べる値")
        return int(value) if value is not None and value.is_integer() else value
    if kind == "date":
        try:
            return parse_date(text).isoformat()
        except InvalidInput:
            errors[key] = "比べる日付は 2026-04-01 や 令和8年4月1日 の形で入力してください。"
            return None
    return _check_text(errors, key, text, "label")


def _rows_rule(
    errors: dict[str, str], prefix: str, kind: str, f: dict[str, Any], earlier: Mapping[str, str]
) -> Any:
    """The JSON Logic of the condition editor's rows (None when there are none)."""
    rows = f[kind]
    if not rows:
        return None
    if len(rows) > COND_MAX:
        errors[f"{prefix}{kind}.0.field"] = f"条件は1つの項目につき{COND_MAX}個までです。"
        return None
    join = f[f"{kind}_join"]
    if join not in COND_JOINS:
        errors[f"{prefix}{kind}_join"] = (
            "条件の組み合わせを「すべて満たす」か「いずれかを満たす」から選んでください。"
        )
        return None
    out = []
    for k, row in enumerate(rows):
        key = f"{prefix}{kind}.{k}."
        name, op, text = row["field"].strip(), row["op"], row["value"].strip()
        if not name:
            errors[f"{key}field"] = "条件に使う項目を選んでください。"
            continue
        if name not in earlier:
            errors[f"{key}field"] = _not_before(name)
            continue
        allowed = ops_for(earlier[name])
        if op not in allowed:
            usable = "・".join(COND_OPS[o] for o in allowed)
            errors[f"{key}op"] = f"この項目に使える比べ方は {usable} です。"
            continue
        var = {"var": name}
        if op == "filled":
            out.append({"!!": [var]})
            continue
        if not text:
            errors[f"{key}value"] = "比べる値を入力してください。"
            continue
        value = _cond_value(errors, f"{key}value", earlier[name], text)
        if value is None or f"{key}value" in errors:
            continue
        out.append({"in": [value, var]} if op == "contains" else {_OP_LOGIC[op]: [var, value]})
    if len(out) != len(rows):
        return None
    return out[0] if len(out) == 1 else {join: out}


def _field(
    errors: dict[str, str],
    prefix: str,
    f: dict[str, Any],
    known: set[str],
    in_group: bool,
    earlier: Mapping[str, str],
) -> dict[str, Any]:
    key = prefix.rstrip(".")
    name = f["name"].strip()
    if not name:
        errors[f"{prefix}name"] = "項目名（英小文字）を入力してください。"
    elif len(name) > 60 or not re.fullmatch(FIELD_NAME, name):
        errors[f"{prefix}name"] = "項目名は英小文字で始まる英小文字・数字・_ で60文字以内にしてください。"
    label = _check_text(errors, f"{prefix}label", f["label"], "label")
    if not label:
        errors[f"{prefix}label"] = "表示名を入力してください。"
    kind = f["type"] if f["type"] in EformFieldType.__members__ else None
    if kind is None:
        errors[f"{prefix}type"] = "種類を選んでください。"
        kind = "text"
    if in_group and kind == "group":
        errors[f"{prefix}type"] = "繰り返し要素の中に繰り返し要素は置けません。"
    out: dict[str, Any] = {"name": name, "label": label or "?", "type": kind, "required": bool(f["required"])}
    help_text = _check_text(errors, f"{prefix}help", f["help"], "help", multiline=True)
    if help_text:
        out["help"] = help_text
    options_text = _check_text(errors, f"{prefix}options", f["options"], "options", multiline=True)
    if kind in ("select", "radio", "checkbox"):
        options = _options(errors, f"{prefix}options", options_text)
        if kind in ("select", "radio") and not options:
            errors.setdefault(f"{prefix}options", "選択肢を1行に1つ「値:表示名」で入力してください。")
        if options:
            out["options"] = options
    max_length = _int(errors, f"{prefix}max_length", f["max_length"], 1, 100000, "最大文字数")
    if max_length is not None and kind in ("text", "textarea", "kana", "address"):
        out["max_length"] = max_length
    if kind == "number":
        for attr, what in (("min", "最小値"), ("max", "最大値")):
            value = _float(errors, f"{prefix}{attr}", f[attr], what)
            if value is not None:
                out[attr] = value
        if "min" in out and "max" in out and out["min"] > out["max"]:
            errors[f"{prefix}max"] = "最大値は最小値以上にしてください。"
    if kind == "date" and f["wareki"]:
        out["wareki"] = True
    if kind in ("postal_code", "corporate_number") and f["address_field"].strip():
        out["address_field"] = f["address_field"].strip()[:60]
    if kind == "corporate_number" and f["name_field"].strip():
        out["name_field"] = f["name_field"].strip()[:60]
    kept = _keep(errors, key, f["keep"], EDITED_FIELD_PROPS, EformField)
    out = {**kept, **out}
    for attr in ("visible_if", "required_if"):
        rule = _parse_rule(errors, f"{prefix}{attr}", f[attr], known)
        if rule is not None:
            out[attr] = rule
    vis = _rows_rule(errors, prefix, "vis", f, earlier)
    req = _rows_rule(errors, prefix, "req", f, earlier)
    for attr, rule, what in (("visible_if", vis, "表示条件"), ("required_if", req, "必須条件")):
        if rule is None:
            continue
        if attr in out:
            errors[f"{prefix}{attr}"] = f"{what}は条件の行か JSON のどちらか一方で指定してください。"
        out[attr] = rule
    if f["show_required"]:
        if "visible_if" not in out:
            errors.setdefault(
                f"{prefix}show_required", "「表示されるときは必須」は表示条件を設定したときに使えます。"
            )
        elif "required_if" in out:
            errors.setdefault(
                f"{prefix}show_required", "必須条件と「表示されるときは必須」はどちらか一方にしてください。"
            )
        else:
            out["required_if"] = out["visible_if"]
    if kind == "group":
        out["max_repeat"] = _int(errors, f"{prefix}max_repeat", f["max_repeat"], 1, 50, "繰り返しの上限数")
        if out["max_repeat"] is None and f"{prefix}max_repeat" not in errors:
            errors[f"{prefix}max_repeat"] = "繰り返しの上限数（1から50）を入力してください。"
        out["min_repeat"] = (
            _int(errors, f"{prefix}min_repeat", f["min_repeat"], 0, 50, "最初に表示する数") or 0
        )
        if out["max_repeat"] and out["min_repeat"] > out["max_repeat"]:
            errors[f"{prefix}min_repeat"] = "最初に表示する数は上限数以下にしてください。"
        children = f["fields"]
        if not children:
            errors[f"{key}"] = "繰り返し要素には項目を1つ以上追加してください。"
        if len(children) > MAX_GROUP_FIELDS:
            errors[f"{key}"] = f"繰り返し要素の項目は{MAX_GROUP_FIELDS}個までです。"
        inner = [c["name"].strip() for c in children]
        for j, child in enumerate(inner):
            if child and inner.index(child) != j:
                errors.setdefault(
                    f"{prefix}fields.{j}.name", f"項目名「{child}」がこの繰り返し要素の中で重複しています。"
                )
        own = known | set(inner)
        out["fields"] = [
            _field(errors, f"{prefix}fields.{j}.", c, own, True, {**earlier, **_typed(children[:j])})
            for j, c in enumerate(children)
        ]
    return out


def _keep(
    errors: dict[str, str], key: str, text: str, edited: frozenset[str], model: type[Any]
) -> dict[str, Any]:
    """The hidden ``keep`` JSON back as properties: an object of properties of ``model`` that the
    builder does not edit (a tampered or broken one is an error, never merged)."""
    text = text.strip()
    if not text:
        return {}
    allowed = set(model.model_fields) - edited
    try:
        data = json.loads(text) if len(text) <= KEEP_MAX_CHARS else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not set(data) <= allowed:
        errors[key] = "画面に表示していない設定が読めません。画面を読み込み直してください。"
        return {}
    return data


def without(keep: str, *names: str) -> str:
    """A ``keep`` JSON text without the properties ``names``."""
    data = {k: v for k, v in (json.loads(keep) if keep else {}).items() if k not in names}
    return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else ""


def _typed(fields: list[dict[str, Any]]) -> dict[str, str]:
    """name → type of the fields a condition may look at."""
    return {f["name"].strip(): f["type"] for f in fields if f["name"].strip() and f["type"] in COND_TYPES}


def dangling(state: State) -> dict[str, str]:
    """Conditions that look at a field no longer before them (removed, renamed, moved), keyed by
    input — shown right after 削除 / 並べ替え so the staff member sees what to fix."""
    errors: dict[str, str] = {}
    known = {f["name"].strip() for f in state["fields"]}

    def one(prefix: str, f: dict[str, Any], earlier: dict[str, str], names: set[str]) -> None:
        for kind in COND_KINDS:
            for k, row in enumerate(f[kind]):
                name = row["field"].strip()
                if name and name not in earlier:
                    errors[f"{prefix}{kind}.{k}.field"] = _not_before(name)
        for attr in ("visible_if", "required_if"):
            if f[attr].strip():
                _parse_rule(errors, f"{prefix}{attr}", f[attr], names)

    for i, f in enumerate(state["fields"]):
        earlier = _typed(state["fields"][:i])
        one(f"fields.{i}.", f, earlier, known)
        inner = {c["name"].strip() for c in f["fields"]}
        for j, c in enumerate(f["fields"]):
            one(f"fields.{i}.fields.{j}.", c, {**earlier, **_typed(f["fields"][:j])}, known | inner)
    return errors


def reorder(state: State, order: list[str]) -> str | None:
    """Put the top-level fields in ``order`` (their names); a Japanese message if ``order`` is not
    exactly a permutation of the fields there."""
    names = [f["name"].strip() for f in state["fields"]]
    if len(order) != len(names) or sorted(order) != sorted(names) or len(set(names)) != len(names):
        return "並び順が今の項目と合いません。画面を読み込み直してから並べ替えてください。"
    by_name = {f["name"].strip(): f for f in state["fields"]}
    state["fields"] = [by_name[n] for n in order]
    return None


def _when(errors: dict[str, str], key: str, text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.strptime(text[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=JST)
    except ValueError:
        errors[key] = "日時は 2026-04-01T09:00 の形で入力してください。"
        return None
    return value.astimezone(UTC)


def _mail(errors: dict[str, str], event: str, text: dict[str, str]) -> dict[str, str] | None:
    subject_key, body_key = f"mails.{event}.subject", f"mails.{event}.body"
    subject = _check_text(errors, subject_key, text.get("subject", ""), "subject")
    raw_body = text.get("body", "")
    # The body is stored as typed (a trailing line break included); the check is on the text.
    body = raw_body if _check_text(errors, body_key, raw_body, "body", multiline=True) else ""
    if not subject and not body:
        return None
    if not subject:
        errors[subject_key] = "件名を入力してください（既定の文面に戻すには件名と本文を空にします）。"
    if not body:
        errors[body_key] = "本文を入力してください（既定の文面に戻すには件名と本文を空にします）。"
    for key, value in ((subject_key, subject), (body_key, body)):
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
        except ValueError:
            errors.setdefault(key, "差し込み文字の { } の対応が取れていません。")
            continue
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            errors.setdefault(
                key,
                f"差し込み文字 {{{unknown[0][:30]}}} は使えません。使えるもの: "
                + " ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            )
    return {"subject": subject, "body": body}


def build(state: State) -> Built:
    """The definition the state describes, or the errors keyed by input name."""
    errors: dict[str, str] = {}
    slug = unicodedata.normalize("NFKC", state["slug"]).strip()
    if not slug:
        errors["slug"] = "URL（英小文字・数字・- _）を入力してください。"
    elif len(slug) > SLUG_MAX or not re.fullmatch(SLUG, slug):
        errors["slug"] = (
            f"URLは英小文字・数字で始まり、英小文字・数字・- _ だけの{SLUG_MAX}文字以内にしてください。"
        )
    title = _check_text(errors, "title", state["title"], "title")
    if not title:
        errors["title"] = "手続名を入力してください。"
    data: dict[str, Any] = {
        "slug": slug or "x",
        "title": title or "?",
        "description": _check_text(
            errors, "description", state["description"], "description", multiline=True
        ),
        "category": _check_text(errors, "category", state["category"], "category") or "その他",
        "keywords": _check_text(errors, "keywords", state["keywords"], "keywords").split(),
        "bring": [
            line.strip()
            for line in _check_text(errors, "bring", state["bring"], "bring", multiline=True).splitlines()
            if line.strip()
        ],
        "guest_allowed": bool(state["guest_allowed"]),
        "jpki_required": bool(state["jpki_required"]),
    }
    for attr in ("fee", "contact"):
        value = _check_text(errors, attr, state[attr], attr)
        if value:
            data[attr] = value
    homepage = _check_text(errors, "homepage", state["homepage"], "homepage")
    if homepage:
        if not re.fullmatch(r"https?://[^\s<>\"']+", homepage):
            errors["homepage"] = "ホームページは http:// または https:// で始まる URL を入力してください。"
        data["homepage"] = homepage
    types = [t for t in state["applicant_types"] if t in ApplicantType.__members__]
    if not types:
        errors["applicant_types"] = "申請者の属性（個人・法人・団体）を1つ以上選んでください。"
    data["applicant_types"] = types or ["individual"]
    data["jpki_signers"] = state["jpki_signers"]
    if data["jpki_required"] and "individual" not in types and state["jpki_signers"] == "individual":
        errors["jpki_required"] = (
            "電子署名を「個人の申請だけ」に求める設定では、申請者の属性に「個人」を含めてください"
            "（法人・団体にも求める場合は「すべての申請」を選んでください）。"
        )
    extensions = [
        e.strip().lstrip(".").lower() for e in re.split(r"[,\s、]+", state["extensions"]) if e.strip()
    ]
    bad = [e for e in extensions if not re.fullmatch(r"[a-z0-9]{1,10}", e)]
    if bad:
        errors["extensions"] = f"拡張子「{bad[0][:20]}」は使えません（英小文字・数字、例: pdf, jpg）。"
    elif not extensions:
        errors["extensions"] = "添付できる拡張子を1つ以上入力してください（例: pdf, jpg, png）。"
    elif len(extensions) > 20:
        errors["extensions"] = "拡張子は20個までです。"
    max_mb = _int(errors, "max_file_mb", state["max_file_mb"], 1, MAX_FILE_MB, "1ファイルの上限（MB）")
    if max_mb is None and "max_file_mb" not in errors:
        errors["max_file_mb"] = f"1ファイルの上限を1から{MAX_FILE_MB}までの整数（MB）で入力してください。"
    data["uploads"] = {"extensions": list(dict.fromkeys(extensions)) or ["pdf"], "max_file_mb": max_mb or 1}
    mode = state["payment_mode"] if state["payment_mode"] in PaymentMode.__members__ else "none"
    payment: dict[str, Any] = {"mode": mode}
    if mode == "prepayment":
        amount = _int(errors, "payment_amount", state["payment_amount"], 0, 10_000_000, "手数料")
        if amount is None and "payment_amount" not in errors:
            errors["payment_amount"] = "事前決済の手数料（円）を入力してください。"
        payment["amount"] = amount or 0
        per = state["payment_amount_per"].strip()
        if per:
            payment["amount_per"] = per
    data["payment"] = payment
    mails = {}
    for event, text in state["mails"].items():
        if event in MailEvent.__members__:
            mail = _mail(errors, event, text)
            if mail:
                mails[event] = mail
    data["mails"] = mails
    fields = state["fields"]
    if not fields:
        errors["fields"] = "項目を1つ以上追加してください。"
    if len(fields) > MAX_FIELDS:
        errors["fields"] = f"項目は{MAX_FIELDS}個までです（現在{len(fields)}個）。"
    known = {f["name"].strip() for f in fields}
    data["fields"] = [
        _field(errors, f"fields.{i}.", f, known, False, _typed(fields[:i]))
        for i, f in enumerate(fields[:MAX_FIELDS])
    ]
    kinds = {f["name"]: f["type"] for f in data["fields"]}
    for i, f in enumerate(data["fields"]):
        target = f.get("address_field")
        corporate = f["type"] == "corporate_number"
        if target is not None and not (
            kinds.get(target) in CORPORATE_TARGETS if corporate else kinds.get(target) == "address"
        ):
            errors.setdefault(
                f"fields.{i}.address_field",
                "所在地を入れる項目を一覧から選んでください（文字・住所の項目）。"
                if corporate
                else "住所を入れる項目を一覧から選んでください（種類が「住所」の項目）。",
            )
        target = f.get("name_field")
        if target is not None and kinds.get(target) not in CORPORATE_TARGETS:
            errors.setdefault(
                f"fields.{i}.name_field", "名称を入れる項目を一覧から選んでください（文字・住所の項目）。"
            )
    _check_applicant_field(errors, data, types)
    data = {**_keep(errors, "keep", state["keep"], EDITED_PROCEDURE_PROPS, EformProcedure), **data}
    names = [f["name"].strip() for f in fields]
    for i, name in enumerate(names):
        if name and names.index(name) != i:
            errors.setdefault(f"fields.{i}.name", f"項目名「{name}」が重複しています。")
    if (
        "payment_amount_per" not in errors
        and payment.get("amount_per")
        and payment["amount_per"] not in known
    ):
        errors["payment_amount_per"] = "通数などの項目名（フォームにある数値の項目）を入力してください。"
    result = Built(None, errors)
    result.publish_from = _when(errors, "publish_from", state["publish_from"])
    result.publish_until = _when(errors, "publish_until", state["publish_until"])
    if result.publish_from and result.publish_until and result.publish_until <= result.publish_from:
        errors["publish_until"] = "公開終了日時は公開開始日時より後にしてください。"
    if errors:
        return result
    try:
        result.definition = EformProcedure.model_validate(data)
    except ValidationError as exc:
        for item in describe_validation_errors(exc.errors()):
            key = _error_key(item["field"])
            errors.setdefault(key, item["message"])
    return result


def _error_key(loc: str) -> str:
    """A pydantic location (``fields.2.fields.0.name``) as the builder input it belongs to."""
    if loc.startswith("uploads."):
        return {"uploads.max_file_mb": "max_file_mb"}.get(loc, "extensions")
    if loc.startswith("payment"):
        return "payment_amount"
    parts = loc.split(".")
    if parts[0] and parts[0] not in EDITED_PROCEDURE_PROPS:
        return "keep"  # a property carried in the hidden input: shown at the top of the form
    m = re.fullmatch(r"(fields\.\d+(?:\.fields\.\d+)?)\.([a-z_]+)(?:\..*)?", loc)
    if m and m.group(2) not in EDITED_FIELD_PROPS:
        return m.group(1)
    return loc or "fields"


def labels_for(state: State) -> dict[str, str]:
    """Readable names of the error keys for the summary (手続名, 項目3「氏名」の条件 …)."""
    labels = {
        "slug": "URL",
        "title": "手続名",
        "description": "概要説明",
        "category": "分類",
        "keywords": "検索語",
        "bring": "必要なもの",
        "fee": "手数料の表示",
        "contact": "問い合わせ先",
        "homepage": "ホームページ",
        "organisation_id": "担当課",
        "publish_from": "公開開始日時",
        "publish_until": "公開終了日時",
        "applicant_types": "申請者の属性",
        "jpki_required": "公的個人認証",
        "jpki_signers": "電子署名を求める申請",
        "extensions": "添付できる拡張子",
        "max_file_mb": "1ファイルの上限",
        "payment_amount": "手数料",
        "payment_amount_per": "手数料に掛ける項目",
        "fields": "項目",
        "keep": "表示していない設定",
    }
    attrs = {
        "name": "項目名",
        "label": "表示名",
        "type": "種類",
        "help": "補足説明",
        "options": "選択肢",
        "max_length": "最大文字数",
        "min": "最小値",
        "max": "最大値",
        "visible_if": "表示条件",
        "required_if": "必須条件",
        "address_field": "住所・所在地を入れる項目",
        "name_field": "名称を入れる項目",
        "keep": "表示していない設定",
        "max_repeat": "繰り返しの上限数",
        "min_repeat": "最初に表示する数",
        "show_required": "「表示されるときは必須」",
        "vis_join": "表示条件の組み合わせ",
        "req_join": "必須条件の組み合わせ",
    }
    for i, f in enumerate(state["fields"]):
        head = f"項目{i + 1}「{f['label'][:20]}」"
        labels[f"fields.{i}"] = head
        _label_field(labels, f"fields.{i}", head, f, attrs)
        for j, c in enumerate(f["fields"]):
            sub = f"{head}の項目{j + 1}「{c['label'][:20]}」"
            _label_field(labels, f"fields.{i}.fields.{j}", sub, c, attrs)
    for event, text in MAIL_LABELS.items():
        labels[f"mails.{event.value}.subject"] = f"メール（{text}）の件名"
        labels[f"mails.{event.value}.body"] = f"メール（{text}）の本文"
    return labels


def _label_field(
    labels: dict[str, str], key: str, head: str, f: dict[str, Any], attrs: dict[str, str]
) -> None:
    labels[key] = head
    for attr, text in attrs.items():
        labels[f"{key}.{attr}"] = f"{head}の{text}"
    for kind, what in COND_KINDS.items():
        for k in range(max(len(f[kind]), 1) + 1):
            for part, text in (("field", "の項目"), ("op", "の比べ方"), ("value", "の値")):
                labels[f"{key}.{kind}.{k}.{part}"] = f"{head}の{what}{k + 1}{text}"
