"""``madoguchi-server import residents`` / ``export movements``: the 住民記録 CSV linkage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from server.cli_support import run_with_db


@click.group("import")
def import_group() -> None:
    """他システムのデータの取込。"""


@import_group.command("residents")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lg-code", required=True)
@click.option("--mode", type=click.Choice(["full", "diff"]), required=True, help="full 全件 / diff 差分")
@click.option("--encoding", default="auto", show_default=True, help="auto, utf-8, cp932 (Shift_JIS)")
@click.option(
    "--report", "report_path", type=click.Path(path_type=Path), help="取り込めなかった行の一覧 (CSV)"
)
def import_residents(path: Path, lg_code: str, mode: str, encoding: str, report_path: Path | None) -> None:
    """住民記録システムの CSV を取り込む (docs/records.md の列の定義)。"""
    from server.domain import audit
    from server.domain.residents import services

    data = path.read_bytes()
    report = run_with_db(
        lambda db, _s: services.import_csv(
            db, lg_code, data, mode=mode, actor=audit.SYSTEM, encoding=encoding
        )
    )
    click.echo(
        f"取り込みました ({report.encoding}): {report.rows} 行、追加 {report.added}、更新 {report.updated}、"
        f"消除 {report.removed}、取り込めなかった行 {len(report.rejected)}"
    )
    if report.rejected:
        if report_path:
            report_path.write_text(report.rejected_csv(), encoding="utf-8-sig")
            click.echo(f"取り込めなかった行の一覧: {report_path}")
        else:
            for r in report.rejected[:20]:
                click.echo(f"  {r.line} 行目 (宛名番号 {r.atena_number}): {r.reason}")


@click.group("export")
def export_group() -> None:
    """他システム向けのデータの出力。"""


@export_group.command("movements")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lg-code", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="受付日 (から)")
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="受付日 (まで)")
@click.option("--encoding", default="utf-8", show_default=True, help="utf-8 または cp932 (Shift_JIS)")
def export_movements(path: Path, lg_code: str, date_from: date, date_to: date, encoding: str) -> None:
    """確定した異動を住民記録システム向けの CSV に出力する。"""
    from server.domain import audit
    from server.domain.residents import services

    data = run_with_db(
        lambda db, _s: services.export_csv(
            db,
            lg_code,
            date_from=date_from.date() if hasattr(date_from, "date") else date_from,
            date_to=date_to.date() if hasattr(date_to, "date") else date_to,
            actor=audit.SYSTEM,
            encoding=encoding,
        )
    )
    path.write_bytes(data)
    click.echo(f"出力しました: {path}")
