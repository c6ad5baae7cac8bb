"""HTTP client for the server's REST contract (:mod:`shared.api`), Qt-free and synchronous.

It runs in worker threads (never on the UI thread). Every failure becomes a class of the one error
hierarchy (:mod:`shared.errors`) carrying the server's Japanese ``message``; a network failure is
:class:`~shared.errors.ServiceUnavailable`.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import httpx

from shared.api import Health, LoginRequest, LoginResponse, ReceptionCreate, ReceptionRead, UserInfo
from shared.api_counter import PhraseList, PhraseRead, PhraseScope, PhraseWrite, ResidentHit
from shared.api_records import (
    AttachmentRead,
    BackupStatus,
    DocumentClass,
    OperationReport,
    PurgeJobDetail,
    PurgeJobRead,
    ReceptionPage,
    ReceptionRecord,
    ReportFormat,
    RetentionClassRead,
    StoredReport,
)
from shared.errors import (
    AccountLocked,
    AuthenticationFailed,
    AuthenticationRequired,
    Conflict,
    InvalidInput,
    MadoguchiError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
)
from shared.models.movement_notice import STORED

API_PREFIX = "/api/v1"

_BY_STATUS: dict[int, type[MadoguchiError]] = {
    401: AuthenticationRequired,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    423: AccountLocked,
}


def error_from_response(response: httpx.Response) -> MadoguchiError:
    """The :mod:`shared.errors` instance for an error answer, with the server's Japanese message."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    code = str(body.get("code") or "")
    if status == 401 and code == AuthenticationFailed.code:
        cls: type[MadoguchiError] = AuthenticationFailed
    elif status >= 500:
        cls = ServiceUnavailable
    else:
        cls = _BY_STATUS.get(status, MadoguchiError)
    message = body.get("message") if isinstance(body.get("message"), str) else None
    details = body.get("details") if isinstance(body.get("details"), list) else None
    return cls(message, code=code or None, field=body.get("field"), details=details)


def transport_error_message(exc: Exception) -> str:
    """Japanese text for a network failure (no personal data: only the exception class)."""
    if isinstance(exc, httpx.TimeoutException):
        return "サーバーの応答がありません（タイムアウト）。ネットワークを確認してください。"
    return "サーバーに接続できません。ネットワークとサーバーの状態を確認してください。"


class ApiClient:
    """One server, one optional bearer token. Thread-safe for sequential use per thread."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request and return the raw answer; network failures raise ServiceUnavailable."""
        headers = {}
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            return self._http.request(
                method, f"{API_PREFIX}{path}", json=json, content=content, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(transport_error_message(exc)) from exc

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- the contract ------------------------------------------------------------------------

    def health(self) -> Health:
        return Health.model_validate(self._ok(self.request("GET", "/health")))

    def login(self, request: LoginRequest) -> LoginResponse:
        """Log in; on success the client keeps the token for later calls."""
        answer = LoginResponse.model_validate(
            self._ok(self.request("POST", "/auth/login", json=request.model_dump(mode="json")))
        )
        self.token = answer.token
        return answer

    def logout(self) -> None:
        self._ok(self.request("POST", "/auth/logout"))
        self.token = None

    def me(self) -> UserInfo:
        return UserInfo.model_validate(self._ok(self.request("GET", "/auth/me")))

    def create_reception(self, body: ReceptionCreate) -> ReceptionRead:
        """POST a reception; idempotent on ``client_key`` (a resend answers the stored one)."""
        data = self._ok(self.request("POST", "/receptions", json=body.model_dump(mode="json")))
        return ReceptionRead.model_validate(data, context=STORED)

    def get_reception(self, reception_id: UUID | str) -> ReceptionRead:
        return ReceptionRead.model_validate(
            self._ok(self.request("GET", f"/receptions/{reception_id}")), context=STORED
        )

    # -- records (search, archive, backups) ----------------------------------------------------

    def search_receptions(self, **criteria: Any) -> ReceptionPage:
        """Search receptions; empty criteria are left out. Audited on the server."""
        params = httpx.QueryParams({k: str(v) for k, v in criteria.items() if v not in (None, "")})
        return ReceptionPage.model_validate(self._ok(self.request("GET", f"/records/receptions?{params}")))

    def reception_record(self, reception_id: UUID | str) -> ReceptionRecord:
        """One reception with its attachments (audited as a view)."""
        return ReceptionRecord.model_validate(
            self._ok(self.request("GET", f"/records/receptions/{reception_id}")), context=STORED
        )

    def upload_attachment(
        self,
        reception_id: UUID | str,
        data: bytes,
        *,
        document_class: DocumentClass = DocumentClass.scan,
        filename: str | None = None,
        client_key: UUID | str | None = None,
        token: str | None = None,
    ) -> AttachmentRead:
        """Archive one document of a reception; with ``client_key`` a resend answers the stored one."""
        return AttachmentRead.model_validate(
            self._ok(
                self.upload_attachment_response(
                    reception_id, data, document_class, filename, client_key, token
                )
            )
        )

    def upload_attachment_response(
        self,
        reception_id: UUID | str,
        data: bytes,
        document_class: DocumentClass | str,
        filename: str | None,
        client_key: UUID | str | None,
        token: str | None = None,
    ) -> httpx.Response:
        """The raw answer of an upload (the sync worker tells temporary from permanent refusals)."""
        params = {"document_class": str(DocumentClass(document_class).value)}
        if filename:
            params["filename"] = filename
        if client_key:
            params["client_key"] = str(client_key)
        return self.request(
            "POST", f"/receptions/{reception_id}/attachments", content=data, params=params, token=token
        )

    def list_attachments(self, reception_id: UUID | str) -> list[AttachmentRead]:
        data = self._ok(self.request("GET", f"/receptions/{reception_id}/attachments"))
        return [AttachmentRead.model_validate(x) for x in data]

    def attachment_pdf(self, attachment_id: UUID | str) -> bytes:
        """The archived PDF (the server verified its SHA-256 before sending it)."""
        response = self.request("GET", f"/attachments/{attachment_id}/content")
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.content

    def backup_status(self) -> BackupStatus:
        return BackupStatus.model_validate(self._ok(self.request("GET", "/records/backups")))

    # -- retention and purge -------------------------------------------------------------------

    def retention_classes(self) -> list[RetentionClassRead]:
        """保存区分 of the user's municipality (years per document class)."""
        return [
            RetentionClassRead.model_validate(x) for x in self._ok(self.request("GET", "/records/retention"))
        ]

    def update_retention(self, document_class: DocumentClass, years: int) -> RetentionClassRead:
        """Change one class's years (settings.manage; refused below 1 year; audited)."""
        data = self._ok(
            self.request("PUT", f"/records/retention/{document_class.value}", json={"years": years})
        )
        return RetentionClassRead.model_validate(data)

    def purge_plan(self) -> PurgeJobDetail:
        """Fix (or fetch the unfinished) list of what has expired."""
        return PurgeJobDetail.model_validate(self._ok(self.request("POST", "/records/purge/plan")))

    def purge_jobs(self) -> list[PurgeJobRead]:
        return [PurgeJobRead.model_validate(x) for x in self._ok(self.request("GET", "/records/purge/jobs"))]

    def purge_job(self, job_id: UUID | str) -> PurgeJobDetail:
        return PurgeJobDetail.model_validate(self._ok(self.request("GET", f"/records/purge/jobs/{job_id}")))

    def purge_run(self, job_id: UUID | str, item_count: int) -> PurgeJobDetail:
        """Delete exactly the confirmed list (``item_count`` must be the list's size)."""
        body = {"confirm": True, "item_count": item_count}
        data = self._ok(self.request("POST", f"/records/purge/jobs/{job_id}/run", json=body))
        return PurgeJobDetail.model_validate(data)

    # -- reports -------------------------------------------------------------------------------

    def stored_reports(self) -> list[StoredReport]:
        """Monthly operation reports the server's scheduler stored, newest first."""
        return [
            StoredReport.model_validate(x)
            for x in self._ok(self.request("GET", "/reports/operations/stored"))
        ]

    def stored_report_file(self, report_id: UUID | str, fmt: ReportFormat) -> bytes:
        params = httpx.QueryParams({"format": fmt.value})
        response = self.request("GET", f"/reports/operations/stored/{report_id}?{params}")
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.content

    def operation_report(self, period: str) -> OperationReport:
        """運用報告 of the user's municipality for ``YYYY-MM`` or ``YYYY-MM-DD`` (audited)."""
        params = httpx.QueryParams({"period": period})
        return OperationReport.model_validate(self._ok(self.request("GET", f"/reports/operations?{params}")))

    def operation_report_file(self, period: str, fmt: ReportFormat) -> bytes:
        """The same report as a file: CSV (UTF-8 with BOM) or PDF with charts."""
        params = httpx.QueryParams({"period": period, "format": fmt.value})
        response = self.request("GET", f"/reports/operations?{params}")
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.content

    # -- counter input aids: 語句登録 and 住記から入力 ---------------------------------------------

    @staticmethod
    def _phrase_path(scope: PhraseScope, phrase_id: UUID | str | None = None) -> str:
        base = "/phrases/office" if scope is PhraseScope.office else "/phrases"
        return base if phrase_id is None else f"{base}/{phrase_id}"

    def list_phrases(self) -> PhraseList:
        """The user's own phrases and the municipality's shared ones."""
        return PhraseList.model_validate(self._ok(self.request("GET", "/phrases")))

    def create_phrase(self, scope: PhraseScope, body: PhraseWrite) -> PhraseRead:
        """Register a phrase in the user's own list or (with ``phrase.manage``) the shared list."""
        data = self._ok(self.request("POST", self._phrase_path(scope), json=body.model_dump(mode="json")))
        return PhraseRead.model_validate(data)

    def update_phrase(self, scope: PhraseScope, phrase_id: UUID | str, body: PhraseWrite) -> PhraseRead:
        """Change a phrase; ``body.version`` is the version read (a stale one raises Conflict)."""
        data = self._ok(
            self.request("PUT", self._phrase_path(scope, phrase_id), json=body.model_dump(mode="json"))
        )
        return PhraseRead.model_validate(data)

    def delete_phrase(self, scope: PhraseScope, phrase_id: UUID | str) -> None:
        self._ok(self.request("DELETE", self._phrase_path(scope, phrase_id)))

    def search_residents(
        self, *, name: str | None = None, birth_date: date | None = None, address: str | None = None
    ) -> list[ResidentHit]:
        """Current residents of the imported register (at most 50); audited on the server."""
        criteria = {
            "name": name,
            "birth_date": birth_date.isoformat() if birth_date else None,
            "address": address,
        }
        params = httpx.QueryParams({k: v for k, v in criteria.items() if v})
        return [ResidentHit.model_validate(r) for r in self._ok(self.request("GET", f"/residents?{params}"))]

    def resident_household(self, atena_number: str) -> list[ResidentHit]:
        """The current members of the person's household, 世帯主 first."""
        data = self._ok(self.request("GET", f"/residents/{atena_number}/household"))
        return [ResidentHit.model_validate(r) for r in data]
