"""auth_sessions: login sessions. Only a SHA-256 of the opaque token is stored."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class AuthSession(UUIDPrimaryKey, Base):
    """A login: valid until ``expires_at`` unless revoked (logout)."""

    __tablename__ = "auth_sessions"

    lg_code: Mapped[str] = lg_code_column()
    """Municipality of the user."""
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True, comment="ユーザーID"
    )
    """Who logged in."""
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="トークンのSHA-256")
    """Hex SHA-256 of the bearer token; the token itself is never stored."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="ログイン日時")
    """Login time."""
    expires_at: Mapped[datetime] = mapped_column(comment="有効期限")
    """The token is refused after this time."""
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="失効日時 (ログアウト)")
    """Set on logout; the token is refused from then on."""
    terminal_id: Mapped[str | None] = mapped_column(sa.String(100), nullable=True, comment="端末ID")
    """Terminal the login came from, as the client declared it."""
    client_ip: Mapped[str | None] = mapped_column(sa.String(45), nullable=True, comment="接続元IPアドレス")
    """Client IP address of the login."""
