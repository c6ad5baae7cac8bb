"""``madoguchi-server`` / ``python -m server``: run the server and administer it.

Every command reads the same settings (environment ``MADOGUCHI_*``); messages are Japanese.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from server.cli_support import run_async, run_in_tenant, run_with_db, with_database
from server.config import Settings, get_settings
from shared.permissions import Permission

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from server.db.engine import Database

DEMO_LG_CODE = "082104"
DEMO_NAME = "下妻市"
DEMO_PASSWORD = "madoguchi-demo"  # noqa: S105 - published demo credentials, demo mode only
COUNTER_PERMISSIONS = [
    Permission.reception_create,
    Permission.reception_read,
    Permission.mode_counter,
    Permission.mode_kiosk,
]


@click.group()
def main() -> None:
    """Madoguchi サーバー (窓口支援システム)。"""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="待ち受けるアドレス")
@click.option("--port", default=8000, show_default=True, type=int, help="待ち受けるポート")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="プロセス数 (省略時は設定 server_workers。既定の 0 は CPU コア数と DB の接続上限から決める)",
)
def run(host: str, port: int, workers: int | None) -> None:
    """サーバーを起動する。"""
    import uvicorn

    from server.app import create_app
    from server.workers import available_cores, connection_limits, plan_workers

    settings = get_settings()
    plan = plan_workers(settings, workers, available_cores(), run_async(connection_limits))
    if plan.note:
        click.echo(plan.note, err=True)
    click.echo(f"サーバーを {plan.count} プロセスで起動します。", err=True)
    count = plan.count
    if count > 1:  # each worker process builds its app from the same environment
        uvicorn.run(
            "server.app:create_app",
            factory=True,
            workers=count,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
        )
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)


@main.group()
def db() -> None:
    """データベースの移行と確認。"""


@db.command("upgrade")
def db_upgrade() -> None:
    """データベースを最新の構造にする (Alembic)。"""
    from server.db.migrate import upgrade

    upgrade(get_settings())
    click.echo("データベースを最新の構造にしました。")


@db.command("check")
def db_check() -> None:
    """モデルと移行 (マイグレーション) の内容が一致するか確かめる。"""
    import tempfile
    from pathlib import Path

    from server.db.migrate import differences, upgrade

    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        if settings.is_sqlite:
            # Check on a fresh database so that the answer is about the migrations, not local data.
            settings = Settings(data_dir=Path(tmp), database_url=f"sqlite+aiosqlite:///{tmp}/check.db")
        upgrade(settings)
        diff = differences(settings)
    if diff:
        click.echo("モデルと移行が一致しません:", err=True)
        for item in diff:
            click.echo(f"  {item}", err=True)
        sys.exit(1)
    click.echo("モデルと移行は一致しています。")


@db.command("grant")
def db_grant() -> None:
    """PostgreSQL: アプリケーション用ロール (MADOGUCHI_DB_APP_ROLE) に権限を付与する。"""
    from server.db.grants import grant_app_role

    async def body(db: Database, settings: Settings) -> None:
        async with db.engine.begin() as conn:
            await grant_app_role(conn, settings.db_app_role)

    settings = get_settings()
    if settings.is_sqlite:
        click.echo("SQLite ではロールの権限付与は不要です。")
        return
    run_with_db(body)
    click.echo(f"ロール {settings.db_app_role} に権限を付与しました。")


@main.group()
def municipality() -> None:
    """団体 (市区町村) の登録。"""


@municipality.command("create")
@click.option("--lg-code", required=True, help="全国地方公共団体コード (6桁)")
@click.option("--name", required=True, help="団体名")
def municipality_create(lg_code: str, name: str) -> None:
    """団体を登録する。"""
    from server.domain.accounts import services

    async def body(db: Database, _settings: Settings) -> str:
        async with db.unbound() as session:
            return (await services.create_municipality(session, lg_code, name)).lg_code

    click.echo(f"団体 {run_with_db(body)} {name} を登録しました。")


@main.group()
def group() -> None:
    """グループ (権限のまとまり) の管理。"""


@group.command("create")
@click.option("--lg-code", required=True)
@click.option("--name", required=True, help="グループ名")
@click.option("--permission", "permissions", multiple=True, help="権限名 (複数可)")
def group_create(lg_code: str, name: str, permissions: tuple[str, ...]) -> None:
    """グループを作成する。"""
    from server.domain.accounts import services

    run_in_tenant(lg_code, lambda session: services.create_group(session, lg_code, name, permissions))
    click.echo(f"グループ「{name}」を作成しました。")


@main.group()
def user() -> None:
    """利用者 (職員) の管理。"""


@user.command("create")
@click.option("--lg-code", required=True)
@click.option("--username", required=True, help="ログインID")
@click.option("--display-name", required=True, help="表示名")
@click.option("--group", "groups", multiple=True, help="所属グループ (複数可)")
@click.option("--password", default=None, help="パスワード (履歴に残るため --password-stdin を推奨)")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力から読む")
@click.option("--totp", is_flag=True, help="二要素認証 (TOTP) を設定し、登録用URIを表示する")
@click.option("--email", default=None, help="メールアドレス (確認リンクをメールで送る)")
def user_create(
    lg_code: str,
    username: str,
    display_name: str,
    groups: tuple[str, ...],
    password: str | None,
    password_stdin: bool,
    totp: bool,
    email: str | None,
) -> None:
    """利用者を作成する。"""
    from server.crypto import load_key_ring
    from server.domain.accounts import services, staff

    address = None
    if email is not None:
        address, problem = staff.clean_email(email)
        if problem:
            raise click.BadParameter(problem, param_hint="--email")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.UsageError("--password か --password-stdin でパスワードを指定してください。")

    async def body(db: Database, settings: Settings) -> str | None:
        keys = load_key_ring(settings.key_path, create=settings.demo) if totp else None
        async with db.tenant(lg_code) as session:
            _user, uri = await services.create_user(
                session,
                keys,
                lg_code=lg_code,
                username=username,
                display_name=display_name,
                password=password,
                groups=groups,
                totp=totp,
                email=address,
                settings=settings,
            )
            return uri

    uri = run_with_db(body)
    click.echo(f"利用者「{username}」を作成しました。")
    if address:
        click.echo("メールアドレスの確認リンクを送信待ちに入れました (mail send で送信されます)。")
    if uri:
        click.echo("認証アプリに次のURIを登録してください (一度だけ表示します):")
        click.echo(uri)


@main.group()
def network() -> None:
    """LGWAN外からのログインを許可するネットワーク。"""


@network.command("allow")
@click.option("--lg-code", required=True)
@click.option("--cidr", required=True, help="許可するネットワーク (例: 203.0.113.0/24)")
@click.option("--note", default=None, help="備考")
def network_allow(lg_code: str, cidr: str, note: str | None) -> None:
    """ネットワークを許可リストに加える (二要素認証の利用者のみログイン可)。"""
    from server.domain.accounts import services

    run_in_tenant(lg_code, lambda session: services.allow_network(session, lg_code, cidr, note))
    click.echo(f"{cidr} を許可しました。")


@main.group()
def audit() -> None:
    """操作ログ。"""


@audit.command("verify")
def audit_verify() -> None:
    """操作ログのハッシュチェーンを検証する (改ざん・削除・並べ替えを検出)。"""
    import sqlalchemy as sa

    from server.db.models import Municipality
    from server.domain.audit import ChainReport, verify_chain

    async def body(db: Database, _settings: Settings) -> list[ChainReport]:
        async with db.unbound() as session:
            codes = (await session.execute(sa.select(Municipality.lg_code))).scalars().all()
        reports = []
        for code in codes:
            async with db.tenant(code) as session:
                reports.append(await verify_chain(session, code))
        return reports

    reports = run_with_db(body)
    for report in reports:
        if not report.ok:
            click.echo(
                f"操作ログの検証に失敗しました: 団体 {report.lg_code} の連番 {report.broken_at} "
                f"({report.reason})",
                err=True,
            )
            sys.exit(1)
    total = sum(r.count for r in reports)
    for report in reports:
        click.echo(f"  団体 {report.lg_code}: {report.count} 件、最新ハッシュ {report.head_hash}")
    click.echo(f"操作ログを検証しました: {len(reports)} 団体、{total} 件、改ざんはありません。")


@main.group()
def keys() -> None:
    """暗号鍵ファイル。"""


@keys.command("generate")
def keys_generate() -> None:
    """暗号鍵ファイルを新しく作る (既にあれば何もしない)。"""
    from server.crypto import generate_key_file

    path = get_settings().key_path
    try:
        key_id = generate_key_file(path)
    except FileExistsError:
        click.echo(f"暗号鍵ファイルは既にあります: {path}", err=True)
        sys.exit(1)
    click.echo(f"暗号鍵ファイルを作成しました: {path} (鍵ID {key_id})。必ずバックアップしてください。")


@main.group()
def demo() -> None:
    """デモ用データ。"""


@demo.command("seed")
def demo_seed() -> None:
    """デモ用の団体 (082104 下妻市)、グループ、利用者を登録する (何度実行しても同じ)。"""
    settings = get_settings()
    if not settings.demo:
        click.echo("デモデータは MADOGUCHI_DEMO=1 のときだけ登録できます。", err=True)
        sys.exit(1)
    run_async(seed_demo)
    click.echo(
        f"デモデータを登録しました: 団体 {DEMO_LG_CODE} {DEMO_NAME}、利用者 demo / demo-admin "
        f"(パスワード {DEMO_PASSWORD})"
    )


async def _grant_missing(session: AsyncSession, group_id: uuid.UUID) -> None:
    """Give the demo 管理者 group every permission it lacks (audited)."""
    import sqlalchemy as sa

    from server.db.models import GroupPermission
    from server.domain import audit

    held = set(
        (
            await session.execute(
                sa.select(GroupPermission.permission).where(GroupPermission.group_id == group_id)
            )
        ).scalars()
    )
    missing = sorted(p.value for p in Permission if p.value not in held)
    if not missing:
        return
    session.add_all(GroupPermission(lg_code=DEMO_LG_CODE, group_id=group_id, permission=p) for p in missing)
    await audit.record(
        session,
        lg_code=DEMO_LG_CODE,
        actor=audit.SYSTEM,
        action="group_update_success",
        object_type="group",
        object_id=group_id,
        details={"permissions_added": missing},
    )


async def seed_demo(settings: Settings) -> None:
    """Idempotent demo data: municipality, groups 窓口 and 管理者, users demo and demo-admin."""
    from server.crypto import load_key_ring
    from server.db.models import Municipality
    from server.domain.accounts import services

    load_key_ring(settings.key_path, create=True)

    async def inner(database: Database) -> None:
        async with database.unbound() as session:
            if await session.get(Municipality, DEMO_LG_CODE) is None:
                await services.create_municipality(session, DEMO_LG_CODE, DEMO_NAME)
        async with database.tenant(DEMO_LG_CODE) as session:
            if await services.get_group(session, DEMO_LG_CODE, "窓口") is None:
                await services.create_group(session, DEMO_LG_CODE, "窓口", COUNTER_PERMISSIONS)
            admins = await services.get_group(session, DEMO_LG_CODE, "管理者")
            if admins is None:
                await services.create_group(session, DEMO_LG_CODE, "管理者", list(Permission))
            else:  # a demo seeded before a permission was added (e.g. phrase.manage) gets it too
                await _grant_missing(session, admins.id)
            for username, display, groups in (
                ("demo", "デモ 窓口職員", ["窓口"]),
                ("demo-admin", "デモ 管理者", ["窓口", "管理者"]),
            ):
                if await services.get_user(session, DEMO_LG_CODE, username) is None:
                    await services.create_user(
                        session,
                        None,
                        lg_code=DEMO_LG_CODE,
                        username=username,
                        display_name=display,
                        password=DEMO_PASSWORD,
                        groups=groups,
                    )

    await with_database(settings, inner)


def _add_records_commands() -> None:
    """backup, restore, purge … of the records domains (issue 5)."""
    from server.domain.backups.cli import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_add_records_commands()


def _add_eforms_commands() -> None:
    """eforms import, mail send of the online applications (issue 6)."""
    from server.domain.eforms.cli import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_add_eforms_commands()

if __name__ == "__main__":
    main()
