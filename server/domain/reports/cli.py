"""``madoguchi-server report audit`` (the audit analysis CSV for the PIA) and ``report operations``
(the 運用報告 as PDF, CSV or JSON)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
import click

from server.cli_support import run_with_db

if TYPE_CHECKING:
    from server.config import Settings
    from server.db.engine import Database


@click.group()
def report() -> None:
    """報告書の出力。"""


@report.command("audit")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lg-code", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
def report_audit(path: Path, lg_code: str, date_from: datetime, date_to: datetime) -> None:
    """利用者ごとの夜間・休日の操作、ログイン失敗、個人番号表示、突出した検索・閲覧を CSV に出力する。"""
    from server.domain.reports import audit_analysis

    lines = run_with_db(lambda db, _s: audit_analysis.analyse(db, lg_code, date_from.date(), date_to.date()))
    path.write_text(audit_analysis.to_csv(lines), encoding="utf-8-sig")
    flags = audit_analysis.summary(lines)
    click.echo(
        f"出力しました: {path} ({len(lines)} 人、" + "、".join(f"{k} {v}" for k, v in flags.items()) + ")"
    )


@report.command("operations")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lg-code", required=True)
@click.option("--month", help="年月 (例: 2026-11)")
@click.option("--day", help="日付 (例: 2026-11-05)。--month の代わりに")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "csv", "json"]),
    help="出力形式 (省略時は PATH の拡張子から、なければ pdf)",
)
def report_operations(path: Path, lg_code: str, month: str | None, day: str | None, fmt: str | None) -> None:
    """運用報告 (手続き・端末・職員・時間帯別の受付件数、処理時間の分布) を PDF・CSV・JSON に出力する。"""
    from server.domain import audit
    from server.domain.reports import operations
    from shared.api_records import ReportFormat

    if bool(month) == bool(day):
        raise click.UsageError("--month か --day のどちらか一方を指定してください。")
    period = month or day or ""
    suffix = path.suffix.lower().lstrip(".")
    chosen = ReportFormat(fmt or (suffix if suffix in {"pdf", "csv", "json"} else "pdf"))

    async def body(db: Database, settings: Settings) -> tuple[int, bytes]:
        made = await operations.build(db, lg_code, period, actor=audit.SYSTEM, fmt=chosen)
        return made.total, await anyio.to_thread.run_sync(
            operations.encode, made, chosen, settings.ipamj_font
        )

    total, data = run_with_db(body)
    path.write_bytes(data)
    click.echo(f"運用報告を出力しました: {path} (受付 {total} 件)")
