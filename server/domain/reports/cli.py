"""``madoguchi-server report audit``: the audit analysis CSV for the PIA."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from server.cli_support import run_with_db


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
