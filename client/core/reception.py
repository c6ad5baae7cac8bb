"""The reception workflow (窓口受付), Qt-free: form text → validated 異動届 → outbox.

The counter screen hands over what the clerk typed as plain strings (nested like the model:
``{"notifier": {"name": …}, "persons": [{"birth_date": "昭和55年4月1日", …}]}``). Dates are parsed
here from 和暦 or 西暦; everything else is validated by :class:`shared.models.MovementNotice`.
All errors come back at once, each with the dotted path of its field and a Japanese message, so
the screen can show each beside its field without losing any input.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from shared.api import ReceptionCreate
from shared.errors import InvalidInput, describe_validation_errors
from shared.models.movement_notice import MovementNotice
from shared.text.wareki import format_wareki, parse_date

from .outbox import Outbox, OutboxItem, OutgoingDocument

RECEPTION_KIND = "reception.create"

#: Date fields of the notice and of each person, parsed from 和暦 or 西暦.
NOTICE_DATES = ("notified_on", "moved_on")
PERSON_DATES = ("birth_date", "stay_expiry_date")
_PLACEHOLDER = date(2000, 1, 1)

#: Errors raised by a model-level validator belong to one field of the form.
_NOTICE_CODE_FIELD = {
    "notice.notified_in_future": "notified_on",
    "notice.moved_in_future": "moved_on",
    "notice.new_address_required": "new_address",
    "notice.old_address_required": "old_address",
    "notice.destination_required": "destination",
    "notice.official_only_ex_officio": "notifier.standing",
    "notice.two_householders": "persons",
}
_PERSON_CODE_FIELD = {
    "person.family_name_required": "family_name",
    "person.birth_in_future": "birth_date",
    "person.roman_name_required": "roman_name",
    "person.nationality_required": "nationality",
    "person.nationality_jp": "nationality",
    "person.residence_category_required": "residence_category",
    "person.japanese_with_residence": "residence_category",
    "person.stay_expiry_before_birth": "stay_expiry_date",
}
_PERSON_PATH = re.compile(r"^persons\.(\d+)$")


@dataclass(frozen=True)
class FieldError:
    """One problem: the dotted path of the field ('' for the whole form), a code, Japanese text."""

    field: str
    code: str
    message: str


class NoticeInvalid(InvalidInput):
    """The form does not make a valid 異動届; ``errors`` lists every problem by field."""

    code = "notice.invalid"
    default_message = "入力内容に誤りがあります。赤く表示された項目を確認してください。"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(details=[e.__dict__ for e in errors])
        self.errors = errors

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in self.errors:
            out.setdefault(e.field, []).append(e.message)
        return out


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dict):
        return {k: _blank_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_to_none(v) for v in value]
    return value


def _parse_dates(
    obj: dict[str, Any], names: tuple[str, ...], prefix: str, errors: list[FieldError]
) -> set[str]:
    bad: set[str] = set()
    for name in names:
        raw = obj.get(name)
        if raw is None or isinstance(raw, date):
            continue
        try:
            obj[name] = parse_date(str(raw))
        except InvalidInput as exc:
            errors.append(FieldError(f"{prefix}{name}", exc.error_code, exc.message))
            obj[name] = _PLACEHOLDER
            bad.add(f"{prefix}{name}")
    return bad


def _remap(field: str, code: str) -> str:
    if field == "" and code in _NOTICE_CODE_FIELD:
        return _NOTICE_CODE_FIELD[code]
    m = _PERSON_PATH.match(field)
    if m and code in _PERSON_CODE_FIELD:
        return f"persons.{m.group(1)}.{_PERSON_CODE_FIELD[code]}"
    return field


def build_notice(form: dict[str, Any]) -> MovementNotice:
    """Validate the clerk's input; raise :class:`NoticeInvalid` with every error by field."""
    data = _blank_to_none(form)
    errors: list[FieldError] = []
    bad_dates = _parse_dates(data, NOTICE_DATES, "", errors)
    persons = data.get("persons") or []
    for i, person in enumerate(persons):
        if isinstance(person, dict):
            bad_dates |= _parse_dates(person, PERSON_DATES, f"persons.{i}.", errors)
    notice: MovementNotice | None = None
    try:
        notice = MovementNotice.model_validate(data)
    except ValidationError as exc:
        for d in describe_validation_errors(exc.errors()):
            field = _remap(d["field"], d["code"])
            if field not in bad_dates:
                errors.append(FieldError(field, d["code"], d["message"]))
    if errors or notice is None:
        raise NoticeInvalid(errors)
    return notice


def wareki_hint(text: str) -> str:
    """What a typed date means, for the hint beside a date field ('' if it cannot be read)."""
    if not text.strip():
        return ""
    try:
        d = parse_date(text)
        return f"{format_wareki(d)}（{d.isoformat()}）"
    except InvalidInput as exc:
        return exc.message


def today_wareki() -> str:
    return format_wareki(date.today())


def submit_reception(
    outbox: Outbox,
    notice: MovementNotice,
    *,
    terminal_id: str | None,
    opened_at: datetime | None = None,
    client_key: uuid.UUID | None = None,
    documents: Sequence[OutgoingDocument] = (),
) -> OutboxItem:
    """Put a validated notice in the outbox (durable before return); the sync worker sends it.

    ``documents`` (printed forms, scans) are queued in the same transaction and sent after the
    reception exists (see :func:`client.core.documents.submit_with_documents`).
    """
    body = ReceptionCreate(
        client_key=client_key or uuid.uuid4(),
        notice=notice,
        terminal_id=terminal_id,
        opened_at=opened_at or datetime.now(UTC),
    )
    return outbox.enqueue(RECEPTION_KIND, body.model_dump(mode="json"), body.client_key, documents)
