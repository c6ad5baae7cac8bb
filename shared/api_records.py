"""REST contract of the records screens (archive, search, backups), ``/api/v1``.

=======  =========================================  ==========================  ==========================
method   path                                       body → answer               permission
=======  =========================================  ==========================  ==========================
POST     /api/v1/receptions/{id}/attachments        raw bytes → AttachmentRead  reception.create
GET      /api/v1/receptions/{id}/attachments        → list[AttachmentRead]      reception.read
GET      /api/v1/attachments/{id}/content           → application/pdf           reception.read
GET      /api/v1/records/receptions                 query → ReceptionPage       reception.read (own) /
                                                                                record.search (all)
GET      /api/v1/records/receptions/{id}            → ReceptionRecord           reception.read (own) /
                                                                                record.search (all)
GET      /api/v1/records/backups                    → BackupStatus              settings.manage
GET      /api/v1/reports/operations                 period, format →            report.read
                                                    OperationReport | CSV | PDF
=======  =========================================  ==========================  ==========================

The upload takes the file as the request body (any Content-Type; the type is decided from the
content) with ``document_class`` and ``filename`` as query parameters.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.api import ReceptionRead, ReceptionStatus
from shared.models.movement_notice import MovementKind


class _Api(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentClass(StrEnum):
    notice_form = "notice_form"  # 異動届 (印刷した帳票)
    scan = "scan"  # 読み取った書類 (転出証明書など)
    power_of_attorney = "power_of_attorney"  # 委任状
    identity_document = "identity_document"  # 本人確認書類
    issuance_request = "issuance_request"  # 交付請求書 (住民票の写しなど)
    generated_form = "generated_form"  # 作成した帳票 (他課用申請書など)
    other = "other"  # その他
    #: 電子申請: an online application with its history and attachments, a retention class only
    #: (never the class of a counter attachment); counted from completion, withdrawal or rejection.
    eform_application = "eform_application"


DOCUMENT_CLASS_LABELS: dict[DocumentClass, str] = {
    DocumentClass.notice_form: "異動届",
    DocumentClass.scan: "読取書類",
    DocumentClass.power_of_attorney: "委任状",
    DocumentClass.identity_document: "本人確認書類",
    DocumentClass.issuance_request: "交付請求書",
    DocumentClass.generated_form: "作成した帳票",
    DocumentClass.other: "その他",
    DocumentClass.eform_application: "電子申請",
}


class AttachmentRead(_Api):
    id: UUID
    reception_id: UUID
    document_class: DocumentClass
    filename: str
    source_media_type: str = Field(description="受け取った形式 (内容から判定)")
    page_count: int
    size_bytes: int
    sha256: str = Field(description="保存した PDF の SHA-256")
    retain_until: date = Field(description="保存期限")
    created_at: datetime


class SortKey(StrEnum):
    reception_number = "reception_number"
    created_at = "created_at"
    kind = "kind"
    status = "status"


class ReceptionSummary(_Api):
    id: UUID
    reception_number: str
    business_date: date
    kind: MovementKind
    status: ReceptionStatus
    terminal_id: str | None
    clerk: str = Field(description="受付した職員のログインID")
    created_at: datetime
    names: list[str] = Field(description="異動者の氏名 (届出のとおり)")
    attachment_count: int


class ReceptionPage(_Api):
    items: list[ReceptionSummary]
    total: int = Field(description="該当件数 (total_capped なら下限)")
    page: int
    page_size: int
    limited_to_own: bool = Field(description="権限により自分の受付だけを検索した")
    total_capped: bool = Field(False, description="件数が上限に達したため数え切っていない (「以上」)")


class ReceptionRecord(_Api):
    reception: ReceptionRead
    attachments: list[AttachmentRead]


class BackupInfo(_Api):
    name: str
    created_at: datetime
    size_bytes: int
    verified: bool


class ScheduledRunRead(_Api):
    """One run of a scheduled job (自動バックアップ, 月次の運用報告) and its result."""

    job: str = Field(description="backup または operation_report")
    period: str = Field(description="対象 (日次: YYYY-MM-DD、月次: YYYY-MM)")
    status: str = Field(description="running / success / failed")
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    message: str = Field(description="結果 (世代名・件数、失敗時は日本語の理由)")


class BackupStatus(_Api):
    backups: list[BackupInfo]
    last_success: datetime | None
    age_hours: float | None
    last_scheduled: ScheduledRunRead | None = Field(default=None, description="最後の自動バックアップ")
    schedule: str = Field(default="", description="自動バックアップの設定 (毎日 02:30 など)")


#: Fewest years any document may be kept (住民基本台帳法施行令 34条: 届出書は受理から1年).
RETENTION_MIN_YEARS = 1
#: Most years a retention class may be set to (a typing error guard, not a legal rule).
RETENTION_MAX_YEARS = 150


class RetentionClassRead(_Api):
    """保存区分: how long one document class is kept in one municipality."""

    document_class: DocumentClass
    label: str
    years: int
    default_years: int = Field(description="既定の年数 (団体で変更していない場合の年数)")
    customized: bool = Field(description="団体で変更した")
    updated_at: datetime | None
    updated_by: str | None


class RetentionClassUpdate(_Api):
    years: int = Field(description="保存年数 (1年以上)")


class PurgeClassCount(_Api):
    """Documents of one class on a purge list."""

    document_class: DocumentClass
    label: str
    count: int


class PurgeItemRead(_Api):
    reception_id: UUID
    reception_number: str
    business_date: date
    scope: str = Field(
        description="reception: 受付と全文書 / documents: 期限切れの文書だけ / "
        "eform: 電子申請 (reception_id は申請ID、reception_number は申請番号、business_date は完了日)"
    )
    documents: int
    classes: list[DocumentClass]
    rows_deleted_at: datetime | None
    blobs_deleted_at: datetime | None
    skipped_reason: str | None


class PurgeJobRead(_Api):
    id: UUID
    status: str = Field(description="planned / running / done")
    cutoff: date = Field(description="この日より前の受付 (異動届) が削除対象")
    item_count: int
    planned_at: datetime
    planned_by: str
    executed_at: datetime | None
    executed_by: str | None


class PurgeJobDetail(_Api):
    job: PurgeJobRead
    receptions: int = Field(description="受付ごと削除する件数")
    documents_only: int = Field(description="文書だけ削除する受付の件数")
    eforms: int = Field(0, description="削除する電子申請の件数 (添付ファイルを含む)")
    by_class: list[PurgeClassCount]
    deleted: int
    skipped: int
    items: list[PurgeItemRead] = Field(description="一覧 (先頭から items_limit 件)")
    items_limit: int


class PurgeRunRequest(_Api):
    confirm: bool = Field(description="削除の確認 (true でなければ実行しない)")
    item_count: int = Field(description="確認した一覧の件数 (一覧と違えば実行しない)")


class StoredReport(_Api):
    """A report the scheduler stored (monthly 運用報告 as PDF and CSV)."""

    id: UUID
    period: str
    created_at: datetime
    pdf_bytes: int
    csv_bytes: int


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    pdf = "pdf"


class CountRow(_Api):
    """One line of a breakdown: a stable key, what the screen shows, and the count."""

    key: str
    label: str
    count: int


class ProcessingTime(_Api):
    """Time from opening a reception to its submission (``opened_at`` → ``created_at``)."""

    measured: int = Field(description="開始時刻のある受付の件数")
    median_seconds: float | None
    p90_seconds: float | None = Field(description="90パーセンタイル (最近順位法)")
    buckets: list[CountRow]


class OperationReport(_Api):
    """運用報告 of one municipality for one day or month (JST business days)."""

    lg_code: str
    municipality: str
    period: str = Field(description="YYYY-MM または YYYY-MM-DD")
    date_from: date
    date_to: date
    total: int
    by_kind: list[CountRow]
    by_terminal: list[CountRow]
    by_clerk: list[CountRow]
    by_hour: list[int] = Field(description="時台 0–23 (日本時間、登録時刻) ごとの件数")
    processing: ProcessingTime
