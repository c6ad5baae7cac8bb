"""住民記録 CSV: Shift_JIS/UTF-8 full and difference loads with rejected rows, prefill search,
export of confirmed 異動 in the same layout (formulas neutralised)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import sqlalchemy as sa

from server.db.models import Reception, Resident
from server.domain import audit
from server.domain.residents import services
from server.domain.residents.layout import HEADERS
from shared.errors import InvalidInput
from tests.server.conftest import Api
from tests.server.records.conftest import make_reception

HEAD = (
    ",".join(
        [
            "宛名番号",
            "世帯番号",
            "住民種別",
            "住民状態",
            "住民票コード",
            "氏_日本人",
            "名_日本人",
            "氏名_外国人ローマ字",
            "氏名_フリガナ",
            "性別",
            "生年月日",
            "住所_郵便番号",
            "住所_都道府県",
            "住所_市区郡町村名",
            "住所_町字",
            "住所_番地号表記",
        ]
    )
    + "\r\n"
)
GOOD = [
    "100001,5001,1,1,12345678901,髙橋,一郎,,ﾀｶﾊｼ ｲﾁﾛｳ,1,1970-05-05,304-8501,茨城県,下妻市,本城町,2-22",
    "100002,5001,1,1,,髙橋,花子,,タカハシ ハナコ,2,19720606,304-8501,茨城県,下妻市,本城町,2-22",
    "100003,5002,2,1,,,,SMITH JOHN,スミス ジョン,1,1980-01-02,,,,,",
]
BAD = [
    ("100004,5003,1,1,,山田,,,,1,1990-02-30,,,,,", "生年月日"),
    ("100005,5003,1,1,12345678902,山田,太郎,,,1,1990-01-01,,,,,", "検査数字"),
    ("100001,5001,1,1,,重複,,,,1,1970-05-05,,,,,", "重複"),
    ("100006,5004,1,1,,,名だけ,,,1,1990-01-01,,,,,", "氏_日本人"),
    ("100007,5004,1,1,,田中,,,,1,1990-01-01,,,,,,extra", "列の数"),
    ("ABC,5004,1,1,,田中,,,,1,1990-01-01,,,,,", "宛名番号"),
    ("100008,5004,1,1,,田中,,,Tanaka,1,1990-01-01,,,,,", "カタカナ"),
]


def _valid_code() -> str:
    from shared.text.checkdigit import resident_code_check_digit

    return "1234567890" + str(resident_code_check_digit("1234567890"))


def _file(rows: list[str], encoding: str = "cp932", head: str = HEAD) -> bytes:
    return (head + "\r\n".join(rows) + "\r\n").replace("12345678901", _valid_code()).encode(encoding)


async def test_full_load_in_shift_jis_reports_rejected_rows(api: Api) -> None:
    """A Shift_JIS full load takes the good rows and lists every bad one with its line and reason."""
    data = _file(GOOD + [b for b, _ in BAD])
    report = await services.import_csv(api.db, "082104", data, mode="full", actor=audit.SYSTEM)
    assert report.encoding == "cp932" and report.added == 3
    reasons = {r.line: r.reason for r in report.rejected}
    assert len(reasons) == len(BAD)
    for (_row, word), line in zip(BAD, range(len(GOOD) + 2, len(GOOD) + 2 + len(BAD)), strict=True):
        assert word in reasons[line], (line, reasons[line])
    assert "行,宛名番号,理由" in report.rejected_csv()


async def test_prefill_search_by_kana_kanji_and_birth_date(api: Api) -> None:
    """The counter finds 髙橋 by 高橋, by ﾀｶﾊｼ and narrows by birth date; removed persons are not offered."""
    await services.import_csv(api.db, "082104", _file(GOOD, "utf-8"), mode="full", actor=audit.SYSTEM)
    h = await api.headers()
    r = await api.http.get("/api/v1/residents", params={"name": "高橋"}, headers=h)
    assert r.status_code == 200, r.text
    assert sorted(x["atena_number"] for x in r.json()) == ["100001", "100002"]
    r = await api.http.get(
        "/api/v1/residents", params={"name": "ﾀｶﾊｼ", "birth_date": "1972-06-06"}, headers=h
    )
    assert [x["given_name"] for x in r.json()] == ["花子"]
    assert "resident_code" not in r.json()[0]
    r = await api.http.get("/api/v1/residents", params={"name": "smith"}, headers=h)
    assert [x["atena_number"] for x in r.json()] == ["100003"]


async def test_difference_load_and_second_full_load(api: Api) -> None:
    """diff: 2 updates, 3 removes, 1 of an existing number is refused; a full load 消除s the absent."""
    await services.import_csv(api.db, "082104", _file(GOOD, "utf-8"), mode="full", actor=audit.SYSTEM)
    diff_head = "処理区分," + HEAD
    rows = [
        "2," + GOOD[0].replace("本城町", "長塚"),
        "3,100002,,,,,,,,,,,,,,,",
        "1," + GOOD[2],
        "2,999999,5009,1,1,,無,,,,1,1990-01-01,,,,,",
    ]
    report = await services.import_csv(
        api.db, "082104", _file(rows, "utf-8", diff_head), mode="diff", actor=audit.SYSTEM
    )
    assert (report.updated, report.removed) == (1, 1)
    assert [r.line for r in report.rejected] == [4, 5]
    report = await services.import_csv(
        api.db, "082104", _file(GOOD[:1], "utf-8"), mode="full", actor=audit.SYSTEM
    )
    assert report.removed == 1  # 100003 was not in the file (100002 was already 消除)
    async with api.db.unbound() as session:
        states = dict(
            (await session.execute(sa.select(Resident.atena_number, Resident.resident_state))).all()
        )
    assert states == {"100001": "1", "100002": "2", "100003": "2"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x81\xff\xfe\x00garbage\xff", "residents.encoding"),
        ("宛名番号,氏_日本人\r\n1,田中\r\n".encode(), "residents.header"),
        (('"' + "x" * 10_000 + "\r\n").encode(), "residents.header"),
    ],
    ids=["undecodable", "missing_columns", "unterminated_quote"],
)
async def test_hostile_files_are_refused_whole(api: Api, data: bytes, code: str) -> None:
    """Undecodable bytes, a header without the required columns, broken quoting: nothing loaded."""
    with pytest.raises(InvalidInput) as info:
        await services.import_csv(api.db, "082104", data, mode="full", actor=audit.SYSTEM)
    assert info.value.error_code in (code, "residents.csv")
    async with api.db.unbound() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Resident))).scalar_one() == 0


async def test_export_confirmed_movements_in_the_same_layout(api: Api) -> None:
    """Only confirmed receptions are exported, in the import layout, Shift_JIS; formulas neutralised."""
    h = await api.admin_headers()
    rec = await make_reception(api, h)
    other = await make_reception(api, h)
    async with api.db.unbound() as session:
        await session.execute(
            sa.update(Reception).where(Reception.id == uuid.UUID(rec["id"])).values(status="confirmed")
        )
        notice = (
            await session.execute(sa.select(Reception.notice).where(Reception.id == uuid.UUID(rec["id"])))
        ).scalar_one()
        notice = {**notice, "new_address": {**notice["new_address"], "building": '=HYPERLINK("x")'}}
        await session.execute(
            sa.update(Reception).where(Reception.id == uuid.UUID(rec["id"])).values(notice=notice)
        )
    from datetime import date

    data = await services.export_csv(
        api.db,
        "082104",
        date_from=date(2000, 1, 1),
        date_to=date(2100, 1, 1),
        actor=audit.SYSTEM,
        encoding="cp932",
    )
    rows = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert rows[0] == HEADERS and len(rows) == 2
    row = dict(zip(HEADERS, rows[1], strict=True))
    assert row["氏_日本人"] == "下妻" and row["異動事由"] == "国内転入"
    assert row["住所_方書"].startswith("'=")
    assert other["id"] not in data.decode("cp932")
    # What was exported can be loaded back by the import.
    report = await services.import_csv(
        api.db, "082104", data.replace(b"'=", b"x="), mode="diff", actor=audit.SYSTEM
    )
    assert report.rejected[0].reason.startswith("宛名番号")  # the export leaves 宛名番号 to the core system


def test_cli_import_export_and_audit_report(settings, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`import residents` reports rejected rows; `export movements` and `report audit` write CSVs."""
    from click.testing import CliRunner

    from server.__main__ import main
    from server.config import get_settings

    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    source = tmp_path / "juki.csv"
    source.write_bytes(_file([*GOOD, BAD[0][0]]))
    rejected, out, analysis = tmp_path / "rejected.csv", tmp_path / "out.csv", tmp_path / "audit.csv"
    try:
        runner = CliRunner()
        result = runner.invoke(
            main,
            [
                "import",
                "residents",
                str(source),
                "--lg-code",
                "082104",
                "--mode",
                "full",
                "--report",
                str(rejected),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "追加 3" in result.output and "cp932" in result.output
        assert "生年月日" in rejected.read_text(encoding="utf-8-sig")
        args = ["--lg-code", "082104", "--from", "2026-01-01", "--to", "2030-12-31"]
        result = runner.invoke(main, ["export", "movements", str(out), *args])
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8").startswith("処理区分,宛名番号")
        result = runner.invoke(main, ["report", "audit", str(analysis), *args])
        assert result.exit_code == 0, result.output
        assert analysis.read_text(encoding="utf-8-sig").startswith("ログインID")
    finally:
        get_settings.cache_clear()


async def test_prefill_gives_address_parts_searches_by_address_and_lists_the_household(api: Api) -> None:
    """The hit carries 都道府県 … 番地号 apart; 本城町 alone finds both 髙橋 (address search, no name);
    the household route gives 世帯主 first and refuses a removed or unknown person."""
    await services.import_csv(api.db, "082104", _file(GOOD, "utf-8"), mode="full", actor=audit.SYSTEM)
    h = await api.headers()
    r = await api.http.get("/api/v1/residents", params={"name": "たかはし いちろう"}, headers=h)
    first = r.json()[0]
    assert (first["prefecture"], first["municipality"], first["town"], first["block_number"]) == (
        "茨城県",
        "下妻市",
        "本城町",
        "2-22",
    )
    assert first["is_foreign"] is False and first["postal_code"] == "304-8501"
    r = await api.http.get("/api/v1/residents", params={"address": "ほんじょうまち"}, headers=h)
    assert r.json() == []  # an address is matched as written (folded width and kana), not by reading
    r = await api.http.get("/api/v1/residents", params={"address": "本城町２－２２"}, headers=h)
    assert sorted(x["atena_number"] for x in r.json()) == ["100001", "100002"]
    r = await api.http.get("/api/v1/residents", params={"address": "%"}, headers=h)
    assert r.json() == []  # LIKE wildcards are escaped
    r = await api.http.get("/api/v1/residents", params={"birth_date": "1980-01-02"}, headers=h)
    assert [x["roman_name"] for x in r.json()] == ["SMITH JOHN"] and r.json()[0]["is_foreign"] is True
    r = await api.http.get("/api/v1/residents", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "residents.criteria_empty"
    r = await api.http.get("/api/v1/residents", params={"address": "x" * 201}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "residents.query_too_long"

    members = (await api.http.get("/api/v1/residents/100002/household", headers=h)).json()
    assert [m["atena_number"] for m in members] == ["100001", "100002"]  # no 続柄 in GOOD: by birth
    async with api.db.tenant("082104") as session:
        await session.execute(
            sa.update(Resident).where(Resident.atena_number == "100002").values(relationship="世帯主")
        )
    members = (await api.http.get("/api/v1/residents/100001/household", headers=h)).json()
    assert [m["atena_number"] for m in members] == ["100002", "100001"]  # 世帯主 first
    assert (await api.http.get("/api/v1/residents/999999/household", headers=h)).status_code == 404
    assert (await api.http.get("/api/v1/residents/abc/household", headers=h)).status_code == 422
    async with api.db.unbound() as session:
        from server.db.models import AuditEvent

        rows = (
            await session.execute(
                sa.select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action.like("resident_%"))
            )
        ).all()
    assert {a for a, _ in rows} >= {"resident_search_success", "resident_household_success"}
    assert all("本城" not in str(d) and "たかはし" not in str(d) for _, d in rows)
