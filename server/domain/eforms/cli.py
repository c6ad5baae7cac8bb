"""``madoguchi-server eforms import`` and ``madoguchi-server mail send`` (added in ``server/__main__.py``)."""

from __future__ import annotations

import asyncio
import sys
import time

import click

from server.config import Settings, get_settings
from shared.errors import MadoguchiError


def _fail(exc: MadoguchiError) -> None:
    click.echo(f"エラー: {exc.message}", err=True)
    sys.exit(1)


async def _import(settings: Settings, lg_code: str, publish: bool) -> list[str]:
    from server.db.engine import Database
    from server.domain.eforms import services

    db = Database.from_settings(settings)
    try:
        async with db.tenant(lg_code) as session:
            rows = await services.import_procedures(session, lg_code, publish=publish)
            return [r.slug for r in rows]
    finally:
        await db.dispose()


async def _send(settings: Settings) -> tuple[int, int]:
    from server.db.engine import Database
    from server.domain.notifications import send_due

    db = Database.from_settings(settings)
    try:
        return await send_due(db, settings)
    finally:
        await db.dispose()


@click.group()
def eforms() -> None:
    """オンライン申請の手続き。"""


@eforms.command("import")
@click.option("--lg-code", required=True, help="団体コード (6桁)")
@click.option("--publish/--no-publish", default=False, help="取り込んだ手続きを公開する")
def eforms_import(lg_code: str, publish: bool) -> None:
    """form_templates/eforms の標準の手続きを取り込む (同じ slug は更新)。"""
    try:
        slugs = asyncio.run(_import(get_settings(), lg_code, publish))
    except MadoguchiError as exc:
        _fail(exc)
        return
    click.echo(f"{len(slugs)} 件の手続きを取り込みました: {', '.join(slugs)}")


@click.group()
def mail() -> None:
    """送信待ちメール。"""


@mail.command("send")
@click.option("--loop", "interval", type=int, default=0, help="この秒数ごとに繰り返す (0: 1回だけ)")
def mail_send(interval: int) -> None:
    """送信時刻になったメールを SMTP で送る (失敗したものは間隔をあけて再送)。"""
    while True:
        sent, failed = asyncio.run(_send(get_settings()))
        click.echo(f"送信 {sent} 件、失敗 {failed} 件")
        if interval <= 0:
            return
        time.sleep(interval)


COMMANDS = [eforms, mail]
