"""reception_counters: the last number handed out per municipality, series and business day."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models._base import Base

#: The numbering series that share this table: 受付番号 of counter receptions, 申請番号 of online
#: applications.
SERIES = ("reception", "eform")


class ReceptionCounter(Base):
    """Incremented atomically (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) for each new number.

    Concurrent submissions wait for each other on this one row instead of colliding on the unique
    number; a rolled-back submission rolls its increment back too, so numbers have no gaps.
    """

    __tablename__ = "reception_counters"

    lg_code: Mapped[str] = mapped_column(
        sa.String(6),
        sa.ForeignKey("municipalities.lg_code"),
        primary_key=True,
        comment="全国地方公共団体コード (テナント)",
    )
    """Municipality the numbers belong to."""
    series: Mapped[str] = mapped_column(
        sa.String(20), primary_key=True, server_default="reception", comment="採番の系列"
    )
    """Which numbers: ``reception`` (受付番号) or ``eform`` (オンライン申請の申請番号)."""
    business_date: Mapped[date] = mapped_column(primary_key=True, comment="受付日 (日本時間)")
    """The business day (Japan time) the numbers are for."""
    last_seq: Mapped[int] = mapped_column(comment="最後に払い出した連番")
    """The sequence number handed out last on that day."""
