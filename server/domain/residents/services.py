"""住民記録 CSV import and export, and resident search for the counter's prefill.

Import reads the whole file first (encoding detected: UTF-8 with or without BOM, else Shift_JIS
as Windows writes it, cp932), validates every row and collects the rejected ones with their line
number and a Japanese reason, then writes the accepted rows in one transaction:

- ``full``: the file is the whole register; persons not in it are marked 消除 (never deleted).
- ``diff``: 処理区分 1 adds, 2 updates, 3 marks 消除.

A file whose header lacks required columns, or that cannot be decoded, is refused as a whole.
Export writes confirmed receptions' persons in the same layout; cells that a spreadsheet would
run as a formula (``= + - @``) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from server.db.engine import Database
from server.db.models import Reception, Resident
from server.domain import audit
from server.domain.residents.layout import HEADERS, REASON_OF_KIND, REQUIRED
from shared.errors import InvalidInput, MadoguchiError, NotFound
from shared.text.checkdigit import normalize_resident_code
from shared.text.normalize import normalize_stored, search_key, to_fullwidth_katakana

_DIGITS = re.compile(r"^[0-9]{1,15}$")
_POSTAL = re.compile(r"^[0-9]{3}-?[0-9]{4}$")


@dataclass
class Rejected:
    line: int
    atena_number: str
    reason: str


@dataclass
class ImportReport:
    mode: str
    encoding: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def rejected_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["行", "宛名番号", "理由"])
        for r in self.rejected:
            writer.writerow([r.line, _safe_cell(r.atena_number), r.reason])
        return out.getvalue()


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """The text of ``data`` and the encoding used; refuses undecodable files in Japanese."""
    candidates = ["utf-8-sig", "cp932"] if encoding == "auto" else [encoding]
    for name in candidates:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    raise InvalidInput(
        "ファイルの文字コードを判別できません。UTF-8 または Shift_JIS で保存してください。",
        code="residents.encoding",
    )


def _date(value: str) -> date:
    v = value.strip().replace("/", "-")
    if re.fullmatch(r"[0-9]{8}", v):
        v = f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return date.fromisoformat(v)


def _text(row: dict[str, str], key: str, limit: int) -> str | None:
    value = normalize_stored(row.get(key) or "")
    if len(value) > limit:
        raise ValueError(f"{key}が長すぎます ({limit}文字まで)")
    return value or None


def _parse_row(row: dict[str, str], mode: str) -> tuple[str, dict[str, Any]]:
    """(処理区分, column values) of one row, or ValueError with a Japanese reason."""
    action = (row.get("処理区分") or "").strip()
    if mode == "full":
        action = "1"
    elif action not in {"1", "2", "3"}:
        raise ValueError("処理区分は 1 (追加)・2 (更新)・3 (削除) のいずれかです")
    atena = (row.get("宛名番号") or "").strip()
    if not _DIGITS.match(atena):
        raise ValueError("宛名番号は15桁以内の数字です")
    if action == "3":
        return action, {"atena_number": atena}
    household = (row.get("世帯番号") or "").strip()
    if not _DIGITS.match(household):
        raise ValueError("世帯番号は15桁以内の数字です")
    kind = (row.get("住民種別") or "").strip()
    if kind not in {"1", "2"}:
        raise ValueError("住民種別は 1 (日本人) か 2 (外国人) です")
    state = (row.get("住民状態") or "").strip()
    if state not in {"1", "2"}:
        raise ValueError("住民状態は 1 (住民) か 2 (消除) です")
    sex = (row.get("性別") or "").strip()
    if sex not in {"1", "2"}:
        raise ValueError("性別は 1 (男) か 2 (女) です")
    try:
        born = _date(row.get("生年月日") or "")
    except ValueError:
        raise ValueError("生年月日の形式が正しくありません (YYYY-MM-DD)") from None
    if born > date.today():
        raise ValueError("生年月日が未来の日付です")
    code = (row.get("住民票コード") or "").strip() or None
    if code:
        try:
            code = normalize_resident_code(code)
        except MadoguchiError as exc:
            raise ValueError(exc.message) from None
    family, given = _text(row, "氏_日本人", 50), _text(row, "名_日本人", 50)
    roman = _text(row, "氏名_外国人ローマ字", 200)
    if kind == "1" and not family:
        raise ValueError("日本人の氏 (氏_日本人) がありません")
    if kind == "2" and not roman:
        raise ValueError("外国人のローマ字氏名 (氏名_外国人ローマ字) がありません")
    kana = _text(row, "氏名_フリガナ", 200)
    if kana:
        kana = to_fullwidth_katakana(kana)
        if not all(("\u30a1" <= ch <= "\u30fa") or ch in "ー・　 " for ch in kana):
            raise ValueError("氏名_フリガナはカタカナで記載してください")
    postal = (row.get("住所_郵便番号") or "").strip() or None
    if postal and not _POSTAL.match(postal):
        raise ValueError("住所_郵便番号の形式が正しくありません (123-4567)")
    moved = (row.get("異動年月日") or "").strip()
    try:
        moved_on = _date(moved) if moved else None
    except ValueError:
        raise ValueError("異動年月日の形式が正しくありません (YYYY-MM-DD)") from None
    parts = {
        name: _text(row, column, 100)
        for name, column in (
            ("prefecture", "住所_都道府県"),
            ("municipality", "住所_市区郡町村名"),
            ("town", "住所_町字"),
            ("block_number", "住所_番地号表記"),
        )
    }
    address = "".join(p for p in parts.values() if p)
    building = _text(row, "住所_方書", 200)
    name = (family or "") + (given or "") if kind == "1" else roman or ""
    return action, {
        "atena_number": atena,
        "household_number": household,
        "resident_kind": kind,
        "resident_state": state,
        "resident_code": code,
        "family_name": family,
        "given_name": given,
        "roman_name": roman,
        "name_kana": kana,
        "sex": sex,
        "birth_date": born,
        "relationship": _text(row, "続柄表記", 50),
        "householder_name": _text(row, "世帯主氏名", 200),
        "postal_code": postal,
        **parts,
        "address": address[:400] or None,
        "building": building,
        "address_key": search_key(address + (building or ""))[:600],
        "moved_on": moved_on,
        "name_key": search_key(name)[:200],
        "kana_key": search_key(kana or "")[:200],
    }


def parse(text: str, mode: str) -> tuple[list[tuple[int, str, dict[str, Any]]], list[Rejected], int]:
    """Accepted rows ``(line, action, values)``, rejected rows and the row count."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error:
        raise InvalidInput("CSV の見出し行を読み取れません。", code="residents.csv") from None
    reader.fieldnames = header
    missing = [h for h in REQUIRED if h not in header]
    if mode == "diff" and "処理区分" not in header:
        missing.insert(0, "処理区分")
    if missing:
        raise InvalidInput(
            f"見出し行に必要な列がありません: {'、'.join(missing)}。"
            "docs/records.md の列の定義を確認してください。",
            code="residents.header",
        )
    accepted: list[tuple[int, str, dict[str, Any]]] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    count = 0
    try:
        for row in reader:
            count += 1
            line = reader.line_num
            atena = str(row.get("宛名番号") or "").strip()[:20]
            if None in row:
                rejected.append(Rejected(line, atena, "列の数が見出し行より多くなっています"))
                continue
            try:
                action, values = _parse_row(row, mode)
            except ValueError as exc:
                rejected.append(Rejected(line, atena, str(exc)))
                continue
            if values["atena_number"] in seen:
                rejected.append(Rejected(line, atena, "同じ宛名番号がファイル内で重複しています"))
                continue
            seen.add(values["atena_number"])
            accepted.append((line, action, values))
    except csv.Error:
        raise InvalidInput(
            f"CSV の形式が正しくありません ({reader.line_num} 行目付近)。", code="residents.csv"
        ) from None
    return accepted, rejected, count


async def import_csv(
    db: Database, lg_code: str, data: bytes, *, mode: str, actor: audit.Actor, encoding: str = "auto"
) -> ImportReport:
    """Load a register CSV (``mode`` = ``full`` or ``diff``); one transaction for all rows."""
    if mode not in {"full", "diff"}:
        raise InvalidInput("取込の種類は full (全件) か diff (差分) です。", code="residents.mode")
    text, used = decode(data, encoding)
    accepted, rejected, count = parse(text, mode)
    report = ImportReport(mode=mode, encoding=used, rows=count, rejected=rejected)
    batch = uuid.uuid4()
    now = datetime.now(UTC)
    async with db.tenant(lg_code) as session:
        existing = {
            a: rid
            for a, rid in (
                await session.execute(
                    sa.select(Resident.atena_number, Resident.id).where(Resident.lg_code == lg_code)
                )
            ).all()
        }
        inserts = []
        for line, action, values in accepted:
            atena = values["atena_number"]
            if action == "3":
                if atena not in existing:
                    report.rejected.append(Rejected(line, atena, "削除する宛名番号が登録されていません"))
                    continue
                await session.execute(
                    sa.update(Resident)
                    .where(Resident.id == existing[atena])
                    .values(resident_state="2", imported_at=now, import_batch=batch)
                )
                report.removed += 1
            elif atena in existing:
                if mode == "diff" and action == "1":
                    report.rejected.append(
                        Rejected(line, atena, "追加する宛名番号は登録済みです (更新は処理区分 2)")
                    )
                    continue
                await session.execute(
                    sa.update(Resident)
                    .where(Resident.id == existing[atena])
                    .values(**values, imported_at=now, import_batch=batch)
                )
                report.updated += 1
            else:
                if mode == "diff" and action == "2":
                    report.rejected.append(Rejected(line, atena, "更新する宛名番号が登録されていません"))
                    continue
                inserts.append(
                    {
                        "id": uuid.uuid4(),
                        "lg_code": lg_code,
                        **values,
                        "imported_at": now,
                        "import_batch": batch,
                    }
                )
                report.added += 1
        if inserts:
            await session.execute(sa.insert(Resident), inserts)
        if mode == "full":
            result = await session.execute(
                sa.update(Resident)
                .where(
                    Resident.lg_code == lg_code,
                    Resident.import_batch != batch,
                    Resident.resident_state == "1",
                )
                .values(resident_state="2", imported_at=now)
            )
            report.removed += int(getattr(result, "rowcount", 0) or 0)
        report.rejected.sort(key=lambda r: r.line)
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="resident_import_success",
            object_type="resident_import",
            object_id=batch,
            details={
                "mode": mode,
                "encoding": used,
                "rows": count,
                "added": report.added,
                "updated": report.updated,
                "removed": report.removed,
                "rejected": len(report.rejected),
            },
        )
    return report


def _safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_csv(
    db: Database, lg_code: str, *, date_from: date, date_to: date, actor: audit.Actor, encoding: str = "utf-8"
) -> bytes:
    """Confirmed receptions' persons from ``date_from`` to ``date_to`` (受付日) in the layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    async with db.tenant(lg_code) as session:
        rows = (
            await session.execute(
                sa.select(Reception)
                .where(
                    Reception.lg_code == lg_code,
                    Reception.status == "confirmed",
                    Reception.business_date >= date_from,
                    Reception.business_date <= date_to,
                )
                .order_by(Reception.reception_number)
            )
        ).scalars()
        count = 0
        for reception in rows:
            notice = reception.notice
            address = notice.get("new_address") or {}
            for person in notice.get("persons", []):
                kana = "".join(
                    p for p in (person.get("family_name_kana"), person.get("given_name_kana")) if p
                )
                values = {
                    "処理区分": "1" if reception.kind != "move_out" else "2",
                    "住民種別": "2" if person.get("is_foreign") else "1",
                    "住民状態": "2" if reception.kind == "move_out" else "1",
                    "住民票コード": person.get("resident_code"),
                    "氏_日本人": person.get("family_name"),
                    "名_日本人": person.get("given_name"),
                    "氏名_外国人ローマ字": person.get("roman_name"),
                    "氏名_フリガナ": kana or person.get("name_kana"),
                    "性別": person.get("sex"),
                    "生年月日": person.get("birth_date"),
                    "続柄表記": person.get("relationship"),
                    "世帯主氏名": notice.get("new_householder"),
                    "住所_郵便番号": address.get("postal_code"),
                    "住所_都道府県": address.get("prefecture"),
                    "住所_市区郡町村名": address.get("municipality"),
                    "住所_町字": address.get("town"),
                    "住所_番地号表記": address.get("block_number"),
                    "住所_方書": address.get("building"),
                    "異動年月日": notice.get("moved_on"),
                    "異動事由": REASON_OF_KIND.get(reception.kind, reception.kind),
                }
                writer.writerow([_safe_cell(values.get(h)) for h in HEADERS])
                count += 1
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="movement_export_success",
            object_type="movement_export",
            details={"from": date_from.isoformat(), "to": date_to.isoformat(), "persons": count},
        )
    return out.getvalue().encode("cp932" if encoding.lower() in ("shift_jis", "cp932", "sjis") else "utf-8")


async def search(
    db: Database,
    lg_code: str,
    actor: audit.Actor,
    name: str | None,
    birth_date: date | None,
    address: str | None = None,
) -> list[Resident]:
    """Current residents for prefill, by any of: name or フリガナ (prefix, folded), birth date,
    address (part of 住所 or 方書, folded). At least one is needed; at most 50 answers; audited
    (which criteria were given and the count, never the values)."""
    key = search_key(name or "")
    address_key = search_key(address or "")
    if not key and not address_key and birth_date is None:
        raise InvalidInput(
            "氏名（フリガナ）・生年月日・住所のいずれかを入力してください。",
            code="residents.criteria_empty",
            field="name",
        )
    top = key + "\U0010ffff"
    async with db.tenant(lg_code) as session:
        dialect = session.bind.dialect.name

        def starts(column: Any) -> Any:
            if dialect == "postgresql":
                return sa.and_(column.op("~>=~")(key), column.op("~<~")(top))
            return sa.and_(column >= key, column < top)

        query = sa.select(Resident).where(Resident.lg_code == lg_code, Resident.resident_state == "1")
        if key:
            query = query.where(sa.or_(starts(Resident.name_key), starts(Resident.kana_key)))
        if birth_date:
            query = query.where(Resident.birth_date == birth_date)
        if address_key:
            query = query.where(Resident.address_key.contains(address_key, autoescape=True))
        found = list((await session.execute(query.order_by(Resident.kana_key).limit(50))).scalars())
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="resident_search_success",
            object_type="resident",
            details={
                "results": len(found),
                "name_given": bool(key),
                "birth_date_given": birth_date is not None,
                "address_given": bool(address_key),
            },
        )
    return found


async def household(db: Database, lg_code: str, actor: audit.Actor, atena_number: str) -> list[Resident]:
    """The current members of the household of ``atena_number`` (世帯主 first, then by birth);
    404 when that person is not a current resident. Audited with the count."""
    async with db.tenant(lg_code) as session:
        person = (
            await session.execute(
                sa.select(Resident).where(
                    Resident.lg_code == lg_code,
                    Resident.atena_number == atena_number,
                    Resident.resident_state == "1",
                )
            )
        ).scalar_one_or_none()
        if person is None:
            raise NotFound("住民記録に該当する住民がいません。", code="residents.not_found")
        members = list(
            (
                await session.execute(
                    sa.select(Resident)
                    .where(
                        Resident.lg_code == lg_code,
                        Resident.household_number == person.household_number,
                        Resident.resident_state == "1",
                    )
                    .order_by(
                        sa.case((Resident.relationship == "世帯主", 0), else_=1),
                        Resident.birth_date,
                        Resident.atena_number,
                    )
                    .limit(50)
                )
            ).scalars()
        )
        await audit.record(
            session,
            lg_code=lg_code,
            actor=actor,
            action="resident_household_success",
            object_type="resident",
            object_id=atena_number,
            details={"members": len(members)},
        )
    return members
