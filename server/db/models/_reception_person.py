"""reception_persons: per person of a reception, search keys and the encrypted 個人番号."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base, UUIDPrimaryKey, lg_code_column


class ReceptionPerson(UUIDPrimaryKey, Base):
    """One 異動者 of a reception."""

    __tablename__ = "reception_persons"
    __table_args__ = (sa.UniqueConstraint("reception_id", "person_index"),)

    lg_code: Mapped[str] = lg_code_column()
    """Municipality (same as the reception's)."""
    reception_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("receptions.id", ondelete="CASCADE"), index=True, comment="受付ID"
    )
    """The reception."""
    person_index: Mapped[int] = mapped_column(comment="異動者の順番 (0から)")
    """Position in notice.persons."""
    name_search_key: Mapped[str] = mapped_column(sa.String(200), index=True, comment="氏名の検索キー")
    """shared.text.normalize.search_key of the name (never shown; for search only)."""
    birth_date: Mapped[date] = mapped_column(comment="生年月日")
    """Birth date (search together with the name key)."""
    my_number_ciphertext: Mapped[bytes | None] = mapped_column(
        sa.LargeBinary, nullable=True, comment="個人番号 (AES-GCM暗号文)"
    )
    """nonce + AES-GCM ciphertext of the 個人番号; AAD binds lg_code, reception id and index."""
    my_number_key_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=True, comment="暗号鍵ID")
    """Id of the key that encrypted it (for rotation)."""
    my_number_hmac: Mapped[str | None] = mapped_column(
        sa.String(64), nullable=True, index=True, comment="個人番号の鍵付きハッシュ (一致検索用)"
    )
    """HMAC-SHA256 of the 個人番号 with the search key, for equality search."""
