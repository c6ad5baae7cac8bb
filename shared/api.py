"""The REST contract between the counter client (and other systems) and the server, ``/api/v1``.

Request and response bodies are these models; both sides import them, so a change here is a
change of the API and shows in the OpenAPI schema. Errors are always
``{"code": str, "message": str (Japanese), "field"?: str, "details"?: [{field, code, message}]}``.

Routes:

=======  ===========================  ==================================  ==================
method   path                         body → answer                       permission
=======  ===========================  ==================================  ==================
GET      /api/v1/health               → Health                            none
POST     /api/v1/auth/login           LoginRequest → LoginResponse        none (allow-list)
POST     /api/v1/auth/logout          → 204                               logged in
GET      /api/v1/auth/me              → UserInfo                          logged in
POST     /api/v1/receptions           ReceptionCreate → ReceptionRead     reception.create
GET      /api/v1/receptions/{id}      → ReceptionRead                     reception.read
=======  ===========================  ==================================  ==================

Authentication: ``Authorization: Bearer <token>`` with the opaque token from login.
``POST /receptions`` is idempotent on ``client_key``: sending the same key again answers 200 with
the reception already stored (201 the first time), never a second reception.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.models.movement_notice import MovementKind, MovementNotice


class _Api(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StationMode(StrEnum):
    counter = "counter"  # 窓口
    supervisor = "supervisor"  # 管理者
    kiosk = "kiosk"  # キオスク


class Health(_Api):
    status: str = Field(description="ok or degraded")
    database: str = Field(description="ok or an error code")
    version: str


class LoginRequest(_Api):
    lg_code: str = Field(min_length=5, max_length=6, description="全国地方公共団体コード")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(None, max_length=10, description="二要素認証のワンタイムコード")
    terminal_id: str | None = Field(None, max_length=100, description="端末ID (監査ログ用)")


class UserInfo(_Api):
    id: UUID
    lg_code: str
    username: str
    display_name: str
    permissions: list[str]
    groups: list[str]
    email: str | None = Field(None, description="メールアドレス (未登録は null)")
    email_verified: bool = Field(False, description="メールアドレスの確認が済んでいるか")


class LoginResponse(_Api):
    token: str = Field(description="不透明なセッショントークン。Authorization: Bearer で送る")
    expires_at: datetime
    user: UserInfo


class ReceptionStatus(StrEnum):
    received = "received"  # 受付済
    confirmed = "confirmed"  # 確定
    cancelled = "cancelled"  # 取消


class ReceptionCreate(_Api):
    client_key: UUID = Field(description="クライアントが発行する冪等キー。同じキーの再送は同じ受付を返す")
    notice: MovementNotice
    terminal_id: str | None = Field(None, max_length=100)
    opened_at: datetime | None = Field(None, description="受付を開始した時刻 (処理時間の統計用)")


class PersonMyNumberState(StrEnum):
    absent = "absent"  # 記載なし
    masked = "masked"  # 記載あり・権限がないため非表示
    shown = "shown"  # 表示


class ReceptionRead(_Api):
    id: UUID
    reception_number: str = Field(description="受付番号 (例: 20261122-0001)")
    lg_code: str
    kind: MovementKind
    status: ReceptionStatus
    client_key: UUID
    terminal_id: str | None
    created_at: datetime
    created_by: str = Field(description="受付した職員のユーザーID")
    notice: MovementNotice = Field(description="個人番号は権限がなければ空欄 (my_number_state を参照)")
    my_number_state: list[PersonMyNumberState] = Field(description="異動者ごとの個人番号の状態")


class ErrorBody(_Api):
    code: str
    message: str
    field: str | None = None
    details: list[dict[str, str]] | None = None
