"""users: staff accounts of one municipality."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class User(UUIDPrimaryKey, Base):
    """A staff member who logs in. Passwords are argon2id hashes; TOTP secrets are encrypted."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("lg_code", "username"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality the account belongs to."""
    username: Mapped[str] = mapped_column(sa.String(100), comment="ログインID")
    """Login name, unique within the municipality."""
    display_name: Mapped[str] = mapped_column(sa.String(100), comment="表示名")
    """Name shown on screens and in the audit log viewer."""
    password_hash: Mapped[str] = mapped_column(sa.String(255), comment="argon2id ハッシュ")
    """argon2id hash of the password (PHC string)."""
    totp_secret: Mapped[bytes | None] = mapped_column(
        sa.LargeBinary, nullable=True, comment="TOTP秘密鍵 (AES-GCM暗号文)"
    )
    """TOTP secret encrypted with the key ring; NULL when the second factor is not set up."""
    totp_key_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, comment="暗号鍵ID")
    """Id of the key that encrypted ``totp_secret``."""
    totp_last_step: Mapped[int | None] = mapped_column(
        sa.BigInteger, nullable=True, comment="最後に使われたTOTPの時間ステップ"
    )
    """Time step (Unix time // 30) of the last accepted code: a code is accepted only once."""
    failed_logins: Mapped[int] = mapped_column(default=0, comment="連続ログイン失敗回数")
    """Failed logins in a row; reset by a successful login or a lockout."""
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True, comment="ロック解除日時")
    """The account refuses logins until this time."""
    is_active: Mapped[bool] = mapped_column(default=True, comment="有効")
    """Disabled accounts cannot log in."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the account was created."""
    email: Mapped[str | None] = mapped_column(sa.String(254), nullable=True, comment="メールアドレス")
    """Work address (NFKC, trimmed, domain in lower case); receives notices only once verified."""
    email_verified_at: Mapped[datetime | None] = mapped_column(
        nullable=True, comment="メールアドレス確認日時"
    )
    """When the confirmation link of the current ``email`` was opened; NULL while unconfirmed."""
    email_token_hash: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, unique=True, index=True, comment="確認リンクのトークンのSHA-256"
    )
    """Hex SHA-256 of the pending confirmation link's token; cleared when used (single use)."""
    email_token_expires_at: Mapped[datetime | None] = mapped_column(
        nullable=True, comment="確認リンクの有効期限"
    )
    """The confirmation link is refused after this time."""
    notify_submissions: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false(), comment="新着申請の通知を受け取る"
    )
    """Opt-in: a short mail when a resident submits to a procedure of one of the member's 課."""

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None
