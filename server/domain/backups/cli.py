"""``madoguchi-server backup`` / ``restore`` (added to the CLI in ``server/__main__.py``)."""

from __future__ import annotations

import click

from server.cli_support import fail
from server.config import get_settings
from shared.errors import MadoguchiError


@click.group(invoke_without_command=True)
@click.pass_context
def backup(ctx: click.Context) -> None:
    """データベースと保存文書をバックアップする (検証してから世代を整理)。"""
    if ctx.invoked_subcommand is not None:
        return
    from server.domain.backups import service

    settings = get_settings()
    try:
        made = service.create(settings)
    except MadoguchiError as exc:
        fail(exc)
    click.echo(
        f"バックアップを作成し検証しました: {made.path} "
        f"({made.size_bytes / 1_000_000:.1f} MB、文書 {made.blob_count} 件、"
        f"保存世代 {settings.backup_generations})"
    )


@backup.command("list")
def backup_list() -> None:
    """保存しているバックアップを新しい順に表示する。"""
    from server.domain.backups import service

    state = service.status(get_settings())
    if not state.backups:
        click.echo("バックアップはありません。")
        return
    for info in state.backups:
        click.echo(f"  {info.name}  {info.created_at:%Y-%m-%d %H:%M}  {info.size_bytes / 1_000_000:.1f} MB")
    click.echo(f"最終成功から {state.age_hours} 時間")


@backup.command("verify")
@click.argument("name", required=False)
def backup_verify(name: str | None) -> None:
    """バックアップ (既定: 最新) を目録と照合する。"""
    from server.domain.backups import service

    try:
        folder = service.find(get_settings(), name)
        service.verify(folder)
    except MadoguchiError as exc:
        fail(exc)
    click.echo(f"バックアップ {folder.name} は目録と一致しています。")


@click.command()
@click.argument("name", required=False)
@click.option("--yes", is_flag=True, help="確認せずに復元する")
def restore(name: str | None, yes: bool) -> None:
    """バックアップ (既定: 最新) からデータベースと保存文書を復元する。サーバーを停止してから実行する。"""
    from server.domain.backups import service

    settings = get_settings()
    if not yes:
        click.confirm("現在のデータベースと保存文書を置き換えます。サーバーは停止していますか?", abort=True)
    try:
        folder = service.restore(settings, name)
    except MadoguchiError as exc:
        fail(exc)
    click.echo(f"バックアップ {folder.name} から復元しました。")


def _commands() -> list[click.Command]:
    # All records commands are handed to server/__main__.py from here (one hook there).
    from server.domain.documents.cli import records
    from server.domain.reports.cli import report
    from server.domain.residents.cli import export_group, import_group
    from server.domain.retention.cli import purge

    return [backup, restore, purge, records, import_group, export_group, report]


COMMANDS = _commands()
