"""``madoguchi-server records reindex``: build missing search keys for every reception."""

from __future__ import annotations

import click

from server.cli_support import run_in_tenant


@click.group()
def records() -> None:
    """受付の記録 (検索キー)。"""


@records.command("reindex")
@click.option("--lg-code", required=True)
def records_reindex(lg_code: str) -> None:
    """検索キーのない受付 (移行データなど) すべてに検索キーを作る。"""
    from server.domain.documents.services import ensure_indexed

    count = run_in_tenant(lg_code, lambda session: ensure_indexed(session, lg_code))
    click.echo(f"検索キーを作成しました: {count} 件の受付。")
