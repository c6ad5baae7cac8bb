"""Initial schema: accounts, audit log, receptions; audit triggers and PostgreSQL RLS.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:01:05.078781
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: Municipal tables (with lg_code) under row-level security. The registry ``municipalities`` is not.
MUNICIPAL_TABLES = (
    "audit_events",
    "groups",
    "network_allowances",
    "users",
    "auth_sessions",
    "group_permissions",
    "receptions",
    "user_groups",
    "reception_persons",
)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _create_tables() -> None:
    op.create_table('municipalities',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード'),
    sa.Column('name', sa.String(length=100), nullable=False, comment='団体名 (例: 下妻市)'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.PrimaryKeyConstraint('lg_code', name=op.f('pk_municipalities'))
    )
    op.create_table('audit_events',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('seq', sa.BigInteger(), nullable=False, comment='連番 (団体ごと)'),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False, comment='発生日時'),
    sa.Column('user_id', sa.Uuid(), nullable=True, comment='操作者ユーザーID'),
    sa.Column('username', sa.String(length=100), nullable=True, comment='操作者ログインID'),
    sa.Column('terminal_id', sa.String(length=100), nullable=True, comment='端末ID'),
    sa.Column('client_ip', sa.String(length=45), nullable=True, comment='接続元IPアドレス'),
    sa.Column('action', sa.String(length=100), nullable=False, comment='イベント名'),
    sa.Column('object_type', sa.String(length=50), nullable=True, comment='対象の種類'),
    sa.Column('object_id', sa.String(length=100), nullable=True, comment='対象ID'),
    sa.Column('outcome', sa.String(length=20), nullable=False, comment='結果 (success/failure/denied)'),
    sa.Column('my_number_shown', sa.Boolean(), nullable=False, comment='個人番号を表示したか'),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='詳細 (個人情報を含めない)'),
    sa.Column('prev_hash', sa.String(length=64), nullable=False, comment='直前のイベントのハッシュ'),
    sa.Column('row_hash', sa.String(length=64), nullable=False, comment='このイベントのハッシュ'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_audit_events_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('lg_code', 'seq', name=op.f('uq_audit_events_lg_code_seq'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_lg_code'), ['lg_code'], unique=False)

    op.create_table('groups',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('name', sa.String(length=100), nullable=False, comment='グループ名'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_groups_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('lg_code', 'name', name=op.f('uq_groups_lg_code_name'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_lg_code'), ['lg_code'], unique=False)

    op.create_table('network_allowances',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('cidr', sa.String(length=50), nullable=False, comment='許可するネットワーク (CIDR)'),
    sa.Column('note', sa.String(length=200), nullable=True, comment='備考'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_network_allowances_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_allowances')),
    sa.UniqueConstraint('lg_code', 'cidr', name=op.f('uq_network_allowances_lg_code_cidr'))
    )
    with op.batch_alter_table('network_allowances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_allowances_lg_code'), ['lg_code'], unique=False)

    op.create_table('users',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('username', sa.String(length=100), nullable=False, comment='ログインID'),
    sa.Column('display_name', sa.String(length=100), nullable=False, comment='表示名'),
    sa.Column('password_hash', sa.String(length=255), nullable=False, comment='argon2id ハッシュ'),
    sa.Column('totp_secret', sa.LargeBinary(), nullable=True, comment='TOTP秘密鍵 (AES-GCM暗号文)'),
    sa.Column('totp_key_id', sa.String(length=40), nullable=True, comment='暗号鍵ID'),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True, comment='最後に使われたTOTPの時間ステップ'),
    sa.Column('failed_logins', sa.Integer(), nullable=False, comment='連続ログイン失敗回数'),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True, comment='ロック解除日時'),
    sa.Column('is_active', sa.Boolean(), nullable=False, comment='有効'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_users_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('lg_code', 'username', name=op.f('uq_users_lg_code_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_lg_code'), ['lg_code'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('user_id', sa.Uuid(), nullable=False, comment='ユーザーID'),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment='トークンのSHA-256'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='ログイン日時'),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False, comment='有効期限'),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True, comment='失効日時 (ログアウト)'),
    sa.Column('terminal_id', sa.String(length=100), nullable=True, comment='端末ID'),
    sa.Column('client_ip', sa.String(length=45), nullable=True, comment='接続元IPアドレス'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_auth_sessions_lg_code_municipalities')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_sessions_token_hash'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_lg_code'), ['lg_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('group_permissions',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('group_id', sa.Uuid(), nullable=False, comment='グループID'),
    sa.Column('permission', sa.String(length=50), nullable=False, comment='権限名'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_permissions_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_group_permissions_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('group_id', 'permission', name=op.f('pk_group_permissions'))
    )
    with op.batch_alter_table('group_permissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_permissions_lg_code'), ['lg_code'], unique=False)

    op.create_table('receptions',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('reception_number', sa.String(length=20), nullable=False, comment='受付番号 (YYYYMMDD-NNNN)'),
    sa.Column('business_date', sa.Date(), nullable=False, comment='受付日'),
    sa.Column('daily_seq', sa.Integer(), nullable=False, comment='その日の連番'),
    sa.Column('client_key', sa.Uuid(), nullable=False, comment='冪等キー (クライアント発行)'),
    sa.Column('kind', sa.String(length=40), nullable=False, comment='届出の種類'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='状態'),
    sa.Column('terminal_id', sa.String(length=100), nullable=True, comment='端末ID'),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True, comment='受付開始日時'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('created_by', sa.Uuid(), nullable=False, comment='受付した職員'),
    sa.Column('notice', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='異動届 (個人番号を除く)'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_receptions_created_by_users')),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_receptions_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receptions')),
    sa.UniqueConstraint('lg_code', 'client_key', name=op.f('uq_receptions_lg_code_client_key')),
    sa.UniqueConstraint('lg_code', 'reception_number', name=op.f('uq_receptions_lg_code_reception_number'))
    )
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receptions_lg_code'), ['lg_code'], unique=False)

    op.create_table('user_groups',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('user_id', sa.Uuid(), nullable=False, comment='ユーザーID'),
    sa.Column('group_id', sa.Uuid(), nullable=False, comment='グループID'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_user_groups_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_user_groups_lg_code_municipalities')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_groups_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_user_groups'))
    )
    with op.batch_alter_table('user_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_groups_lg_code'), ['lg_code'], unique=False)

    op.create_table('reception_persons',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('reception_id', sa.Uuid(), nullable=False, comment='受付ID'),
    sa.Column('person_index', sa.Integer(), nullable=False, comment='異動者の順番 (0から)'),
    sa.Column('name_search_key', sa.String(length=200), nullable=False, comment='氏名の検索キー'),
    sa.Column('birth_date', sa.Date(), nullable=False, comment='生年月日'),
    sa.Column('my_number_ciphertext', sa.LargeBinary(), nullable=True, comment='個人番号 (AES-GCM暗号文)'),
    sa.Column('my_number_key_id', sa.String(length=40), nullable=True, comment='暗号鍵ID'),
    sa.Column('my_number_hmac', sa.String(length=64), nullable=True, comment='個人番号の鍵付きハッシュ (一致検索用)'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_reception_persons_lg_code_municipalities')),
    sa.ForeignKeyConstraint(['reception_id'], ['receptions.id'], name=op.f('fk_reception_persons_reception_id_receptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_persons')),
    sa.UniqueConstraint('reception_id', 'person_index', name=op.f('uq_reception_persons_reception_id_person_index'))
    )
    with op.batch_alter_table('reception_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_persons_lg_code'), ['lg_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_persons_my_number_hmac'), ['my_number_hmac'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_persons_name_search_key'), ['name_search_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_persons_reception_id'), ['reception_id'], unique=False)



def _drop_tables() -> None:
    with op.batch_alter_table('reception_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_persons_reception_id'))
        batch_op.drop_index(batch_op.f('ix_reception_persons_name_search_key'))
        batch_op.drop_index(batch_op.f('ix_reception_persons_my_number_hmac'))
        batch_op.drop_index(batch_op.f('ix_reception_persons_lg_code'))

    op.drop_table('reception_persons')
    with op.batch_alter_table('user_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_groups_lg_code'))

    op.drop_table('user_groups')
    with op.batch_alter_table('receptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receptions_lg_code'))

    op.drop_table('receptions')
    with op.batch_alter_table('group_permissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_permissions_lg_code'))

    op.drop_table('group_permissions')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_sessions_lg_code'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_lg_code'))

    op.drop_table('users')
    with op.batch_alter_table('network_allowances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_allowances_lg_code'))

    op.drop_table('network_allowances')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_lg_code'))

    op.drop_table('groups')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_lg_code'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    op.drop_table('municipalities')


def _audit_append_only() -> None:
    """UPDATE and DELETE of audit rows are refused by the database itself."""
    if op.get_context().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION madoguchi_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION madoguchi_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION madoguchi_audit_append_only()"
    )


def _row_level_security() -> None:
    """PostgreSQL: every municipal table shows and accepts only the bound municipality's rows."""
    if op.get_context().dialect.name != "postgresql":
        return
    for table in MUNICIPAL_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_tenant ON {table} "
            "USING (lg_code = current_setting('madoguchi.lg_code', true)) "
            "WITH CHECK (lg_code = current_setting('madoguchi.lg_code', true))"
        )


def _grants() -> None:
    """PostgreSQL: privileges of the application role (if it exists): no UPDATE/DELETE on audit."""
    if op.get_context().dialect.name != "postgresql":
        return
    config = op.get_context().config
    role = config.attributes.get("app_role") if config is not None else None
    if not role:
        return
    exists = op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    if not exists:
        return
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    op.execute(f"GRANT SELECT ON municipalities TO {quoted}")
    op.execute(f"GRANT SELECT, INSERT ON audit_events TO {quoted}")
    for table in MUNICIPAL_TABLES:
        if table != "audit_events":
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {quoted}")


def upgrade() -> None:
    _create_tables()
    _audit_append_only()
    _row_level_security()
    _grants()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS madoguchi_audit_append_only()")
    _drop_tables()
