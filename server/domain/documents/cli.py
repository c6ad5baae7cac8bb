"""``madoguchi-server records reindex``: build missing search keys for every reception."""

from __future__ import annotations

import asyncio

import click

from server.config import get_settings


@click.group()
def records() -> None:
    """受付の記録 (検索キー)。"""


@records.command("reindex")
@click.option("--lg-code", required=True)
def records_reindex(lg_code: str) -> None:
    """検索キーのない受付 (移行データなど) すべてに検索キーを作る。"""
    from server.db.engine import Database
    from server.domain.documents.services import ensure_indexed

    async def run() -> int:
        db = Database.from_settings(get_settings())
        try:
            async with db.tenant(lg_code) as session:
                return await ensure_indexed(session, lg_code)
        finally:
            await db.dispose()

    click.echo(f"検索キーを作成しました: {asyncio.run(run())} 件の受付。")
