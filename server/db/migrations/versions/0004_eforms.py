"""Online applications: procedures, applications, attachments, mail outbox, payments, webhook ids.

Every table is municipal (row-level security on PostgreSQL through ``tenant_table``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migration_ops import tenant_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "eform_procedures",
    "mail_outbox",
    "payment_webhooks",
    "eform_applications",
    "eform_attachments",
    "payments",
)


def upgrade() -> None:
    op.create_table('eform_procedures',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('slug', sa.String(length=80), nullable=False, comment='URLの一部 (自治体内で一意)'),
    sa.Column('title', sa.String(length=200), nullable=False, comment='手続名'),
    sa.Column('category', sa.String(length=100), nullable=False, comment='分類'),
    sa.Column('organisation', sa.String(length=100), nullable=True, comment='担当課'),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='手続き定義 (EformProcedure)'),
    sa.Column('published', sa.Boolean(), nullable=False, comment='公開中'),
    sa.Column('publish_from', sa.DateTime(timezone=True), nullable=True, comment='公開開始日時'),
    sa.Column('publish_until', sa.DateTime(timezone=True), nullable=True, comment='公開終了日時'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='更新日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_eform_procedures_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eform_procedures')),
    sa.UniqueConstraint('lg_code', 'slug', name=op.f('uq_eform_procedures_lg_code_slug'))
    )
    with op.batch_alter_table('eform_procedures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eform_procedures_lg_code'), ['lg_code'], unique=False)

    op.create_table('mail_outbox',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('to_addr', sa.String(length=254), nullable=False, comment='宛先'),
    sa.Column('subject', sa.String(length=300), nullable=False, comment='件名'),
    sa.Column('body', sa.Text(), nullable=False, comment='本文'),
    sa.Column('event', sa.String(length=40), nullable=False, comment='契機'),
    sa.Column('application_id', sa.Uuid(), nullable=True, comment='申請'),
    sa.Column('status', sa.String(length=10), nullable=False, comment='状態'),
    sa.Column('attempts', sa.Integer(), nullable=False, comment='送信試行回数'),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False, comment='次の送信時刻'),
    sa.Column('last_error', sa.String(length=300), nullable=True, comment='直近のエラー'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True, comment='送信日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_mail_outbox_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_lg_code'), ['lg_code'], unique=False)

    op.create_table('payment_webhooks',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('provider', sa.String(length=40), nullable=False, comment='決済事業者プラグイン'),
    sa.Column('event_id', sa.String(length=100), nullable=False, comment='イベントID'),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False, comment='受信日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_payment_webhooks_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_webhooks')),
    sa.UniqueConstraint('lg_code', 'provider', 'event_id', name=op.f('uq_payment_webhooks_lg_code_provider_event_id'))
    )
    op.create_table('eform_applications',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('procedure_id', sa.Uuid(), nullable=False, comment='手続き'),
    sa.Column('reference', sa.String(length=30), nullable=True, comment='申請番号'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='申請状態'),
    sa.Column('email', sa.String(length=254), nullable=False, comment='連絡先メールアドレス'),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True, comment='メール認証日時'),
    sa.Column('code_hash', sa.String(length=64), nullable=True, comment='確認コードのハッシュ'),
    sa.Column('code_attempts', sa.Integer(), nullable=False, comment='確認コードの失敗回数'),
    sa.Column('access_hash', sa.String(length=64), nullable=False, comment='アクセス鍵のハッシュ'),
    sa.Column('values', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='入力内容 (個人番号を除く)'),
    sa.Column('sealed', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='暗号化した個人番号'),
    sa.Column('amount', sa.Integer(), nullable=True, comment='決済金額 (円)'),
    sa.Column('history', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, comment='状態の履歴'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='作成日時'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='更新日時'),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True, comment='申請日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_eform_applications_lg_code_municipalities')),
    sa.ForeignKeyConstraint(['procedure_id'], ['eform_procedures.id'], name=op.f('fk_eform_applications_procedure_id_eform_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eform_applications')),
    sa.UniqueConstraint('lg_code', 'reference', name=op.f('uq_eform_applications_lg_code_reference'))
    )
    with op.batch_alter_table('eform_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eform_applications_access_hash'), ['access_hash'], unique=False)
        batch_op.create_index('ix_eform_applications_lg_status', ['lg_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_eform_applications_procedure_id'), ['procedure_id'], unique=False)

    op.create_table('eform_attachments',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('application_id', sa.Uuid(), nullable=False, comment='申請'),
    sa.Column('field', sa.String(length=120), nullable=False, comment='項目名 (繰り返しは name.index.child)'),
    sa.Column('filename', sa.String(length=255), nullable=False, comment='ファイル名'),
    sa.Column('content_type', sa.String(length=100), nullable=False, comment='種類 (内容から判定)'),
    sa.Column('size', sa.Integer(), nullable=False, comment='大きさ (バイト)'),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='SHA-256'),
    sa.Column('data', sa.LargeBinary(), nullable=False, comment='内容'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['application_id'], ['eform_applications.id'], name=op.f('fk_eform_attachments_application_id_eform_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_eform_attachments_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eform_attachments'))
    )
    with op.batch_alter_table('eform_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eform_attachments_application_id'), ['application_id'], unique=False)

    op.create_table('payments',
    sa.Column('lg_code', sa.String(length=6), nullable=False, comment='全国地方公共団体コード (テナント)'),
    sa.Column('application_id', sa.Uuid(), nullable=False, comment='申請'),
    sa.Column('provider', sa.String(length=40), nullable=False, comment='決済事業者プラグイン'),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='事前決済/事後決済'),
    sa.Column('amount', sa.Integer(), nullable=False, comment='金額 (円)'),
    sa.Column('state', sa.String(length=20), nullable=False, comment='決済状態'),
    sa.Column('provider_ref', sa.String(length=100), nullable=True, comment='事業者の取引ID'),
    sa.Column('refunded_amount', sa.Integer(), nullable=False, comment='返金額 (円)'),
    sa.Column('access_hash', sa.String(length=64), nullable=False, comment='支払いリンク鍵のハッシュ'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, comment='登録日時'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, comment='更新日時'),
    sa.Column('id', sa.Uuid(), nullable=False, comment='識別子 (UUID)'),
    sa.ForeignKeyConstraint(['application_id'], ['eform_applications.id'], name=op.f('fk_payments_application_id_eform_applications')),
    sa.ForeignKeyConstraint(['lg_code'], ['municipalities.lg_code'], name=op.f('fk_payments_lg_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_lg_code'), ['lg_code'], unique=False)


    for table in TABLES:
        tenant_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
