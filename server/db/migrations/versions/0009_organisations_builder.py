"""Organisations (課) with members and per-procedure roles; form-builder drafts and versions.

New municipal tables (row-level security on PostgreSQL through ``tenant_table``):
``organisations``, ``organisation_members``, ``eform_procedure_roles``, ``eform_procedure_versions``.
``eform_procedures`` gets ``organisation_id`` (replacing the free-text ``organisation``),
``draft_definition`` and ``version``; ``eform_applications`` gets ``procedure_version``.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.migration_ops import tenant_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LG = "全国地方公共団体コード (テナント)"
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _lg(table: str) -> list[Any]:
    return [
        sa.Column("lg_code", sa.String(length=6), nullable=False, comment=LG),
        sa.ForeignKeyConstraint(
            ["lg_code"], ["municipalities.lg_code"], name=op.f(f"fk_{table}_lg_code_municipalities")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "organisations",
        *_lg("organisations"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="組織名 (課の名称)"),
        sa.Column("created_at", TS, nullable=False, comment="登録日時"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("lg_code", "name", name=op.f("uq_organisations_lg_code_name")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_lg_code"), ["lg_code"], unique=False)

    op.create_table(
        "organisation_members",
        *_lg("organisation_members"),
        sa.Column("organisation_id", sa.Uuid(), nullable=False, comment="組織"),
        sa.Column("user_id", sa.Uuid(), nullable=False, comment="職員"),
        sa.Column("role", sa.String(length=20), nullable=False, comment="手続きへの権限 (view/process/edit)"),
        sa.Column("created_at", TS, nullable=False, comment="登録日時"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_members_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_organisation_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organisation_id", "user_id", name=op.f("pk_organisation_members")),
    )
    with op.batch_alter_table("organisation_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_members_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("eform_procedures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True, comment="担当課"))
        batch_op.add_column(sa.Column("draft_definition", JSON, nullable=True, comment="編集中の定義 (未公開)"))
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="1", nullable=False, comment="公開中の定義の版")
        )
        batch_op.create_index(batch_op.f("ix_eform_procedures_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_eform_procedures_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_column("organisation")

    with op.batch_alter_table("eform_applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("procedure_version", sa.Integer(), nullable=True, comment="申請時の手続き定義の版")
        )

    op.create_table(
        "eform_procedure_roles",
        *_lg("eform_procedure_roles"),
        sa.Column("procedure_id", sa.Uuid(), nullable=False, comment="手続き"),
        sa.Column("user_id", sa.Uuid(), nullable=False, comment="職員"),
        sa.Column("role", sa.String(length=20), nullable=False, comment="権限 (none/view/process/edit)"),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["eform_procedures.id"],
            name=op.f("fk_eform_procedure_roles_procedure_id_eform_procedures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_eform_procedure_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("procedure_id", "user_id", name=op.f("pk_eform_procedure_roles")),
    )

    op.create_table(
        "eform_procedure_versions",
        *_lg("eform_procedure_versions"),
        sa.Column("procedure_id", sa.Uuid(), nullable=False, comment="手続き"),
        sa.Column("version", sa.Integer(), nullable=False, comment="版"),
        sa.Column("definition", JSON, nullable=False, comment="手続き定義 (EformProcedure)"),
        sa.Column("published_at", TS, nullable=False, comment="公開日時"),
        sa.Column("published_by", sa.String(length=100), nullable=False, comment="公開した職員"),
        sa.Column("id", sa.Uuid(), nullable=False, comment="識別子 (UUID)"),
        sa.ForeignKeyConstraint(
            ["procedure_id"],
            ["eform_procedures.id"],
            name=op.f("fk_eform_procedure_versions_procedure_id_eform_procedures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eform_procedure_versions")),
        sa.UniqueConstraint(
            "procedure_id", "version", name=op.f("uq_eform_procedure_versions_procedure_id_version")
        ),
    )

    _keep_existing_reviewers_seeing_everything()
    tenant_table("organisations")
    tenant_table("organisation_members", privileges="SELECT, INSERT, UPDATE, DELETE")
    tenant_table("eform_procedure_roles", privileges="SELECT, INSERT, UPDATE, DELETE")
    tenant_table("eform_procedure_versions", privileges="SELECT, INSERT, UPDATE")


def _keep_existing_reviewers_seeing_everything() -> None:
    """Groups that review or manage online applications get ``eform.all_orgs``: after the upgrade
    staff see what they saw before, until an administrator sets up 課 and narrows the groups."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    codes = [row[0] for row in bind.execute(sa.text("SELECT lg_code FROM municipalities"))]
    for code in codes:
        if postgres:  # row-level security: bind the municipality as the application does
            bind.execute(sa.text("SELECT set_config('madoguchi.lg_code', :c, true)"), {"c": code})
        bind.execute(
            sa.text(
                "INSERT INTO group_permissions (lg_code, group_id, permission) "
                "SELECT DISTINCT lg_code, group_id, 'eform.all_orgs' FROM group_permissions "
                "WHERE lg_code = :c AND permission IN ('eform.review', 'eform.manage') "
                "AND group_id NOT IN (SELECT group_id FROM group_permissions "
                "WHERE lg_code = :c AND permission = 'eform.all_orgs')"
            ),
            {"c": code},
        )
    if postgres:
        bind.execute(sa.text("SELECT set_config('madoguchi.lg_code', '', true)"))


def downgrade() -> None:
    op.drop_table("eform_procedure_versions")
    op.drop_table("eform_procedure_roles")
    with op.batch_alter_table("eform_applications", schema=None) as batch_op:
        batch_op.drop_column("procedure_version")
    with op.batch_alter_table("eform_procedures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation", sa.String(length=100), nullable=True, comment="担当課"))
        batch_op.drop_constraint(
            batch_op.f("fk_eform_procedures_organisation_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_eform_procedures_organisation_id"))
        batch_op.drop_column("version")
        batch_op.drop_column("draft_definition")
        batch_op.drop_column("organisation_id")
    op.drop_table("organisation_members")
    op.drop_table("organisations")
