"""``madoguchi-server eforms import`` and ``madoguchi-server mail send`` (added in ``server/__main__.py``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from server.cli_support import run_in_tenant, run_with_db

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def _import(session: AsyncSession, lg_code: str, publish: bool) -> list[str]:
    from server.domain.eforms import services

    rows = await services.import_procedures(session, lg_code, publish=publish)
    return [r.slug for r in rows]


@click.group()
def eforms() -> None:
    """オンライン申請の手続き。"""


@eforms.command("import")
@click.option("--lg-code", required=True, help="団体コード (6桁)")
@click.option("--publish/--no-publish", default=False, help="取り込んだ手続きを公開する")
def eforms_import(lg_code: str, publish: bool) -> None:
    """form_templates/eforms の標準の手続きを取り込む (同じ slug は更新)。"""
    slugs = run_in_tenant(lg_code, lambda session: _import(session, lg_code, publish))
    click.echo(f"{len(slugs)} 件の手続きを取り込みました: {', '.join(slugs)}")


@eforms.command("sweep-blobs")
@click.option("--lg-code", required=True, help="団体コード (6桁)")
@click.option(
    "--older-than", "minutes", type=int, default=60, show_default=True, help="この分数より古いものだけ"
)
def eforms_sweep_blobs(lg_code: str, minutes: int) -> None:
    """どの申請にも属さない添付ファイル (異常終了の残り) を保存先から消す。"""
    from server.domain.eforms.files import sweep_orphans
    from server.plugins.blobstore import open_store

    removed = run_with_db(
        lambda db, settings: sweep_orphans(db, open_store(settings), lg_code, older_than_minutes=minutes)
    )
    click.echo(f"{len(removed)} 件の残りファイルを消しました。")


@eforms.command("sweep-signatures")
def eforms_sweep_signatures() -> None:
    """署名アプリから戻らなかった期限切れの署名手続きを消す (組み込みスケジューラーは毎時実行)。"""
    from datetime import UTC, datetime

    from server.domain.scheduler.service import run_signing_sweep
    from server.plugins.blobstore import open_store

    message = run_with_db(
        lambda db, settings: run_signing_sweep(db, settings, open_store(settings), "", datetime.now(UTC))
    )
    click.echo(message)


@click.group()
def mail() -> None:
    """送信待ちメール。"""


@mail.command("send")
@click.option("--loop", "interval", type=int, default=0, help="この秒数ごとに繰り返す (0: 1回だけ)")
def mail_send(interval: int) -> None:
    """送信時刻になったメールを SMTP で送る (失敗したものは間隔をあけて再送)。"""
    from server.domain.notifications import send_due

    while True:
        sent, failed = run_with_db(send_due)
        click.echo(f"送信 {sent} 件、失敗 {failed} 件")
        if interval <= 0:
            return
        time.sleep(interval)


COMMANDS = [eforms, mail]
