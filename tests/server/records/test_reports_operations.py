"""運用報告: counts by procedure, terminal, clerk and hour; processing time; JSON, CSV, PDF; access."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from server.db.models import Reception
from server.domain.reports import operations
from tests.server.conftest import Api
from tests.server.records.conftest import actions, make_reception

# (who, terminal, kind, stored at (UTC), business date, processing seconds or None)
PLAN: list[tuple[str, str, str, datetime, date, int | None]] = [
    (
        "admin",
        "T-01",
        "move_in",
        datetime(2026, 11, 5, 0, 10, tzinfo=UTC),
        date(2026, 11, 5),
        240,
    ),  # 09:10 JST
    ("admin", "T-02", "move_out", datetime(2026, 11, 5, 0, 40, tzinfo=UTC), date(2026, 11, 5), 720),  # 09:40
    ("clerk", "T-01", "move_in", datetime(2026, 11, 6, 5, 5, tzinfo=UTC), date(2026, 11, 6), 420),  # 14:05
    (
        "clerk",
        "T-01",
        "move_within",
        datetime(2026, 11, 30, 14, 30, tzinfo=UTC),
        date(2026, 11, 30),
        None,
    ),  # 23:30
    (
        "clerk",
        "T-03",
        "move_in",
        datetime(2026, 11, 30, 15, 10, tzinfo=UTC),
        date(2026, 12, 1),
        60,
    ),  # 12-01 00:10
    ("admin", "T-03", "move_in", datetime(2026, 10, 31, 1, 0, tzinfo=UTC), date(2026, 10, 31), 60),
]


async def _seed(api: Api) -> dict[str, dict[str, str]]:
    """The PLAN's receptions, made through the API and moved to their times."""
    who = {"admin": await api.admin_headers(), "clerk": await api.headers()}
    for user, terminal, kind, stored, day, seconds in PLAN:
        made = await make_reception(api, who[user], terminal_id=terminal)
        async with api.db.unbound() as session:
            await session.execute(
                sa.update(Reception)
                .where(Reception.id == uuid.UUID(made["id"]))
                .values(
                    kind=kind,
                    business_date=day,
                    created_at=stored,
                    opened_at=None if seconds is None else stored - timedelta(seconds=seconds),
                )
            )
    return who


async def _get(api: Api, headers: dict[str, str], **params: Any) -> Any:
    return await api.http.get("/api/v1/reports/operations", params=params, headers=headers)


async def test_month_counts_by_procedure_terminal_clerk_hour_and_processing_time(api: Api) -> None:
    """November holds four receptions: counts per kind/terminal/clerk/JST hour, median 7 min, p90 12 min."""
    who = await _seed(api)
    r = await _get(api, who["admin"], period="2026-11")
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["total"], got["date_from"], got["date_to"]) == (4, "2026-11-01", "2026-11-30")
    assert {x["label"]: x["count"] for x in got["by_kind"]} == {"転入": 2, "転出": 1, "転居": 1}
    assert got["by_kind"][0]["key"] == "move_in"
    assert {x["key"]: x["count"] for x in got["by_terminal"]} == {"T-01": 3, "T-02": 1}
    assert {x["key"]: x["count"] for x in got["by_clerk"]} == {"demo": 2, "demo-admin": 2}
    assert {h: n for h, n in enumerate(got["by_hour"]) if n} == {9: 2, 14: 1, 23: 1}
    p = got["processing"]
    assert (p["measured"], p["median_seconds"], p["p90_seconds"]) == (3, 420, 720)
    assert [b["count"] for b in p["buckets"]] == [1, 1, 1, 0, 0, 0, 0]
    assert p["buckets"][0]["label"] == "5分未満"


async def test_day_report_counts_only_that_day(api: Api) -> None:
    """2026-11-05 has the two morning receptions; 2026-12-01 the one stored just after midnight JST."""
    who = await _seed(api)
    got = (await _get(api, who["admin"], period="2026-11-05")).json()
    assert got["total"] == 2 and got["processing"]["median_seconds"] == 480
    got = (await _get(api, who["admin"], period="2026-12-01")).json()
    assert got["total"] == 1 and got["by_hour"][0] == 1


async def test_csv_has_bom_and_parses(api: Api) -> None:
    """The CSV starts with a UTF-8 BOM, parses with the csv module and holds the same figures."""
    who = await _seed(api)
    r = await _get(api, who["admin"], period="2026-11", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["区分", "項目", "値"]
    values = {(row[0], row[1]): row[2] for row in rows[1:]}
    assert values[("合計", "受付件数")] == "4"
    assert values[("手続き別", "転入")] == "2"
    assert values[("時間帯別", "09時台")] == "2"
    assert values[("処理時間", "中央値(分)")] == "7.0"
    assert values[("職員別", "デモ 窓口職員 (demo)")] == "2"


async def test_pdf_has_japanese_headings_and_embeds_ipamj(api: Api, tmp_path: Path) -> None:
    """The PDF reads back with pypdf: Japanese headings and figures, IPAmj明朝 embedded as a subset."""
    who = await _seed(api)
    r = await _get(api, who["admin"], period="2026-11", format="pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    (tmp_path / "report.pdf").write_bytes(r.content)
    reader = PdfReader(io.BytesIO(r.content))
    text = "".join(page.extract_text() for page in reader.pages)
    for heading in (
        "運用報告 2026年11月",
        "下妻市",
        "時間帯別の受付件数",
        "手続き別の受付件数",
        "職員別の受付件数",
    ):
        assert heading in text
    assert "転入" in text and "デモ 窓口職員 (demo)" in text
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            fonts.add((str(font["/BaseFont"]), bool(descriptor and "/FontFile2" in descriptor.get_object())))
    assert fonts and all(name.endswith("+IPAmjMincho") and embedded for name, embedded in fonts)


@pytest.mark.parametrize("period", ["2026-13", "november", "2026-02-30", ""])
async def test_bad_period_is_refused_in_japanese(api: Api, period: str) -> None:
    """A period that is not YYYY-MM or an existing YYYY-MM-DD is 422 with a Japanese message."""
    r = await _get(api, await api.admin_headers(), period=period)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "report.period"
    assert "期間" in r.json()["message"] or "日付" in r.json()["message"]


async def test_clerk_without_report_permission_is_refused(api: Api) -> None:
    """A clerk (no report.read) gets 403; without a token the answer is 401."""
    r = await _get(api, await api.headers(), period="2026-11")
    assert r.status_code == 403
    r = await _get(api, {}, period="2026-11")
    assert r.status_code == 401


async def test_every_report_is_audited(api: Api) -> None:
    """Each report made is one audit event operation_report_success."""
    admin = await api.admin_headers()
    await _get(api, admin, period="2026-11", format="csv")
    await _get(api, admin, period="2026-11-05")
    assert (await actions(api)).count("operation_report_success") == 2


def test_period_parsing_and_percentile() -> None:
    """Months end on their last day (leap years too); nearest-rank p90; bucket labels in Japanese."""
    assert operations.parse_period("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert operations.parse_period("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert operations.parse_period("2026-11-05") == (date(2026, 11, 5), date(2026, 11, 5))
    assert operations.percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert operations.percentile([], 0.9) is None
    assert [label for _k, label in operations.bucket_labels()][-2:] == ["30分以上60分未満", "60分以上"]


def test_cli_writes_pdf_and_csv(settings, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`report operations` writes a PDF and a CSV; a missing period is a usage error."""
    from click.testing import CliRunner

    from server.__main__ import main
    from server.config import get_settings

    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    pdf, table = tmp_path / "ops.pdf", tmp_path / "ops.csv"
    try:
        runner = CliRunner()
        result = runner.invoke(
            main, ["report", "operations", str(pdf), "--lg-code", "082104", "--month", "2026-11"]
        )
        assert result.exit_code == 0, result.output
        assert pdf.read_bytes().startswith(b"%PDF") and "受付 0 件" in result.output
        result = runner.invoke(
            main, ["report", "operations", str(table), "--lg-code", "082104", "--day", "2026-11-05"]
        )
        assert result.exit_code == 0, result.output
        assert table.read_text(encoding="utf-8-sig").startswith("区分,項目,値")
        result = runner.invoke(main, ["report", "operations", str(table), "--lg-code", "082104"])
        assert result.exit_code != 0 and "--month" in result.output
        result = runner.invoke(
            main, ["report", "operations", str(table), "--lg-code", "082104", "--month", "11"]
        )
        assert result.exit_code == 1 and "期間" in result.output
    finally:
        get_settings.cache_clear()
