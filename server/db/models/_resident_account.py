"""resident_accounts: a resident's portal account (利用者登録), with its mailed-link tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column, utcnow


class ResidentAccount(UUIDPrimaryKey, Base):
    """A portal account. Tokens of mailed links are stored only as SHA-256, one of each kind."""

    __tablename__ = "resident_accounts"
    __table_args__ = (sa.UniqueConstraint("lg_code", "email"),)

    lg_code: Mapped[str] = lg_code_column(index=False)
    """Municipality whose portal it belongs to."""
    email: Mapped[str] = mapped_column(sa.String(254), comment="メールアドレス (ログインID)")
    """Login name and where mails go (stored as typed, compared in lower case)."""
    password_hash: Mapped[str] = mapped_column(sa.String(200), comment="パスワードのargon2idハッシュ")
    """argon2id hash of the password."""
    applicant_type: Mapped[str] = mapped_column(sa.String(20), comment="申請者の種別")
    """ApplicantType: individual (個人), corporation (法人), group (団体)."""
    name: Mapped[str] = mapped_column(sa.String(100), comment="氏名または名称")
    """The person's name, or the corporation's / group's name."""
    corporate_number: Mapped[str | None] = mapped_column(sa.String(13), nullable=True, comment="法人番号")
    """法人番号 (13 digits, check digit valid) of a corporation."""
    email_verified_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="メール認証日時")
    """When the verification link was opened; login is refused before."""
    verify_hash: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, index=True, comment="確認リンクのトークンのハッシュ"
    )
    """SHA-256 of the token in the verification link (cleared when used)."""
    verify_expires_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="確認リンクの有効期限")
    """The verification link is refused after this time."""
    reset_hash: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, index=True, comment="再設定リンクのトークンのハッシュ"
    )
    """SHA-256 of the token in the password-reset link (cleared when used: single use)."""
    reset_expires_at: Mapped[datetime | None] = mapped_column(nullable=True, comment="再設定リンクの有効期限")
    """The reset link is refused after this time."""
    failed_logins: Mapped[int] = mapped_column(default=0, comment="連続したログイン失敗回数")
    """Wrong passwords in a row; reset on success."""
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True, comment="ロック解除日時")
    """Logins are refused until then."""
    session_epoch: Mapped[int] = mapped_column(default=0, comment="ログインの世代")
    """Part of every login cookie's signature; raised by logout and password reset."""
    payment_provider: Mapped[str | None] = mapped_column(
        sa.String(40), nullable=True, comment="保存カードの決済事業者プラグイン"
    )
    """Plugin id of the provider that keeps the saved card (None: no saved card)."""
    payment_customer: Mapped[str | None] = mapped_column(
        sa.String(100), nullable=True, comment="決済事業者の顧客ID (保存カード)"
    )
    """The provider's customer id of the saved card (``cus_…``); the card itself stays there."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="登録日時")
    """When the account was registered."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, comment="更新日時")
    """Last change."""
