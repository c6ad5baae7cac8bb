"""audit_events: the append-only, hash-chained audit log (one chain per municipality)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, JsonType, UUIDPrimaryKey, lg_code_column


class AuditEvent(UUIDPrimaryKey, Base):
    """One event ``<object>_<action>_<outcome>``. UPDATE and DELETE are refused by triggers."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.UniqueConstraint("lg_code", "seq"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality whose chain the event belongs to."""
    seq: Mapped[int] = mapped_column(sa.BigInteger, comment="連番 (団体ごと)")
    """Position in the municipality's chain, 1, 2, 3 … without gaps."""
    occurred_at: Mapped[datetime] = mapped_column(comment="発生日時")
    """When it happened (UTC)."""
    user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, comment="操作者ユーザーID")
    """Acting user; NULL for unknown users and system actions."""
    username: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="操作者ログインID")
    """Acting user's login name (kept even if the account is later removed)."""
    terminal_id: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="端末ID")
    """Terminal the request came from."""
    client_ip: Mapped[str | None] = mapped_column(sa.String(45), nullable=True, comment="接続元IPアドレス")
    """Client IP address."""
    action: Mapped[str] = mapped_column(sa.String(100), index=True, comment="イベント名")
    """Event name ``<object>_<action>_<outcome>``, e.g. reception_create_success."""
    object_type: Mapped[str | None] = mapped_column(sa.String(50), nullable=True, comment="対象の種類")
    """Kind of object acted on (reception, user, group …)."""
    object_id: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="対象ID")
    """Id of the object acted on."""
    outcome: Mapped[str] = mapped_column(sa.String(20), comment="結果 (success/failure/denied)")
    """success, failure or denied."""
    my_number_shown: Mapped[bool] = mapped_column(default=False, comment="個人番号を表示したか")
    """True when a 個人番号 was shown to the user by this action."""
    details: Mapped[dict[str, Any]] = mapped_column(
        JsonType, default=dict, comment="詳細 (個人情報を含めない)"
    )
    """Extra facts as JSON; never personal data."""
    prev_hash: Mapped[str] = mapped_column(sa.String(64), comment="直前のイベントのハッシュ")
    """``row_hash`` of the previous event of the chain (64 zeros for the first)."""
    row_hash: Mapped[str] = mapped_column(sa.String(64), comment="このイベントのハッシュ")
    """SHA-256 over ``prev_hash`` and the canonical JSON of this row."""
