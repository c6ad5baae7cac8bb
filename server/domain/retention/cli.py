"""``madoguchi-server purge plan|show|run``: the retention purge from the command line."""

from __future__ import annotations

import uuid
from typing import Any

import click

from server.cli_support import run_with_db
from server.config import Settings


@click.group()
def purge() -> None:
    """保存期限を過ぎた受付と文書の削除 (一覧の作成 → 確認 → 実行)。"""


def _show(items: list[Any], limit: int = 50) -> None:
    for item in items[:limit]:
        scope = {"documents": "文書だけ", "eform": "電子申請"}.get(item.scope, "受付ごと")
        docs = len(item.blobs)
        click.echo(f"  {item.reception_number}  受付日 {item.business_date}  {scope}  文書 {docs} 件")
    if len(items) > limit:
        click.echo(f"  … ほか {len(items) - limit} 件")


@purge.command("plan")
@click.option("--lg-code", required=True)
@click.option("--by", "planned_by", required=True, help="一覧を作成する職員のログインID")
def purge_plan(lg_code: str, planned_by: str) -> None:
    """削除対象の一覧を作る (未完了の一覧があればそれを表示)。"""
    from server.domain.retention import service

    async def body(db: Any, settings: Settings) -> tuple[Any, list[Any]]:
        job = await service.plan(db, settings, lg_code, planned_by=planned_by)
        return job, await service.items(db, lg_code, job.id)

    job, items = run_with_db(body)
    click.echo(f"削除ジョブ {job.id} (受付日 {job.cutoff} より前、{job.item_count} 件、状態 {job.status})")
    _show(items)
    click.echo(
        f"確認のうえ実行: madoguchi-server purge run --lg-code {lg_code} --job {job.id} --by <ログインID>"
    )


@purge.command("run")
@click.option("--lg-code", required=True)
@click.option("--job", "job_id", required=True, type=click.UUID)
@click.option("--by", "executed_by", required=True, help="承認して実行する職員のログインID")
@click.option("--yes", is_flag=True, help="確認せずに実行する")
def purge_run(lg_code: str, job_id: uuid.UUID, executed_by: str, yes: bool) -> None:
    """一覧にある受付と文書だけを削除する (中断後の再実行で続きから完了)。"""
    from server.domain.retention import service
    from server.plugins.blobstore import open_store

    if not yes:
        click.confirm(f"削除ジョブ {job_id} の受付と文書を削除します。よろしいですか?", abort=True)

    async def body(db: Any, settings: Settings) -> Any:
        return await service.execute(db, open_store(settings), lg_code, job_id, executed_by=executed_by)

    report = run_with_db(body)
    click.echo(f"削除しました: {report.deleted} 件 (一覧 {report.listed} 件、対象外 {report.skipped} 件)。")
