"""Synthetic online applications for the retention tests, written straight into the database and
the blob store (the portal that normally makes them is tested in tests/server/eforms)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.db.models import (
    Application,
    ApplicationFile,
    ApplicationSignature,
    OutboxMail,
    Payment,
    Procedure,
)
from server.domain.eforms.files import key_of
from server.plugins.blobstore import BlobStore
from tests.server.conftest import Api

JST = ZoneInfo("Asia/Tokyo")
LG = "082104"


@dataclass
class Made:
    id: uuid.UUID
    keys: list[str] = field(default_factory=list)
    payment_id: uuid.UUID | None = None


async def procedure(api: Api) -> uuid.UUID:
    """A published procedure of its own (unique slug: the PostgreSQL database is shared)."""
    pid = uuid.uuid4()
    async with api.db.tenant(LG) as session:
        session.add(
            Procedure(
                id=pid,
                lg_code=LG,
                slug=f"retention-{pid.hex[:12]}",
                title="保存期限の試験用の手続き (合成データ)",
                category="試験",
                definition={},
                published=True,
            )
        )
    return pid


async def application(
    api: Api,
    store: BlobStore,
    procedure_id: uuid.UUID,
    *,
    status: str,
    created: date,
    closed: date | None = None,
    files: int = 0,
    payment_state: str | None = None,
) -> Made:
    """One application with ``files`` attachments, a signature, a mail and optionally a payment."""
    app_id = uuid.uuid4()
    at = datetime.combine(created, time(10), tzinfo=JST)
    history = [{"at": at.isoformat(timespec="seconds"), "status": "submitted", "by": "resident"}]
    if closed is not None:
        closed_at = datetime.combine(closed, time(15), tzinfo=JST)
        history.append({"at": closed_at.isoformat(timespec="seconds"), "status": status, "by": "staff"})
    made = Made(app_id)
    async with api.db.tenant(LG) as session:
        session.add(
            Application(
                id=app_id,
                lg_code=LG,
                procedure_id=procedure_id,
                reference=f"E-{created:%Y%m%d}-{app_id.int % 1_000_000:06d}",
                status=status,
                email="taro@example.jp",
                access_hash=hashlib.sha256(app_id.bytes).hexdigest(),
                values={"name": "下妻 太郎 (合成)", "address": "茨城県下妻市下妻乙124"},
                sealed={},
                history=history,
                created_at=at.astimezone(UTC),
                updated_at=(at + timedelta(days=1)).astimezone(UTC),
                submitted_at=at.astimezone(UTC),
            )
        )
        await session.flush()
        for n in range(files):
            fid = uuid.uuid4()
            data = f"%PDF-1.4 synthetic attachment {app_id} {n}\n%%EOF\n".encode()
            key = key_of(LG, app_id, fid)
            store.put(key, data)
            made.keys.append(key)
            session.add(
                ApplicationFile(
                    id=fid,
                    lg_code=LG,
                    application_id=app_id,
                    field="document",
                    filename=f"添付{n}.pdf",
                    content_type="application/pdf",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    blob_key=key,
                )
            )
        session.add(
            ApplicationSignature(
                id=uuid.uuid4(),
                lg_code=LG,
                application_id=app_id,
                signing_app="upload",
                state="valid",
                content_sha256="0" * 64,
                four_info={"name": "下妻 太郎 (合成)"},
                result={},
            )
        )
        session.add(
            OutboxMail(
                id=uuid.uuid4(),
                lg_code=LG,
                to_addr="taro@example.jp",
                subject="申請を受け付けました",
                body="合成データ",
                event="submitted",
                application_id=app_id,
                status="sent",
            )
        )
        if payment_state is not None:
            made.payment_id = uuid.uuid4()
            session.add(
                Payment(
                    id=made.payment_id,
                    lg_code=LG,
                    application_id=app_id,
                    provider="sandbox",
                    kind="prepayment",
                    amount=300,
                    state=payment_state,
                    provider_ref="ch_synthetic",
                    access_hash="f" * 64,
                )
            )
    return made
