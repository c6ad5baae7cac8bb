"""The one error hierarchy of Madoguchi.

Every error a user can see carries a stable machine ``code`` (dotted, English, never changes once
released: clients, tests and logs key on it) and a Japanese ``message`` that tells the user what
happened and, where possible, what to do next. The server maps each class to an HTTP status; the
client shows ``message`` as it is.

Validation inside pydantic models raises :class:`pydantic_core.PydanticCustomError` built by
:func:`invalid`, so that a model's ``ValidationError`` carries the same codes and messages.
:func:`describe_validation_errors` turns any pydantic error list into Japanese, including the
errors pydantic raises itself (missing field, wrong type …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic_core import PydanticCustomError


class MadoguchiError(Exception):
    """Base of every expected error. ``code`` is stable; ``message`` is Japanese."""

    code: ClassVar[str] = "error"
    #: The HTTP status the server answers with for this class.
    http_status: ClassVar[int] = 400
    default_message: ClassVar[str] = "処理できませんでした。"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        details: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.error_code = code or self.code
        self.field = field
        self.details = [dict(d) for d in details] if details else []
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the server sends and the client understands."""
        body: dict[str, Any] = {"code": self.error_code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(MadoguchiError):
    """Input that breaks a rule: wrong format, failed check digit, unknown code."""

    code = "invalid_input"
    http_status = 422
    default_message = "入力内容に誤りがあります。"


class PayloadTooLarge(MadoguchiError):
    code = "payload_too_large"
    http_status = 413
    default_message = "送信されたデータが大きすぎます。"


class AuthenticationRequired(MadoguchiError):
    code = "auth.required"
    http_status = 401
    default_message = "ログインしてください。"


class AuthenticationFailed(MadoguchiError):
    code = "auth.failed"
    http_status = 401
    default_message = "ユーザーIDまたはパスワードが正しくありません。"


class AccountLocked(MadoguchiError):
    code = "auth.locked"
    http_status = 423
    default_message = "ログインの失敗が続いたため、アカウントをロックしました。管理者に連絡してください。"


class PermissionDenied(MadoguchiError):
    code = "permission.denied"
    http_status = 403
    default_message = "この操作を行う権限がありません。"


class NotFound(MadoguchiError):
    code = "not_found"
    http_status = 404
    default_message = "対象が見つかりません。"


class Conflict(MadoguchiError):
    code = "conflict"
    http_status = 409
    default_message = "他の操作と競合しました。もう一度お試しください。"


class ServiceUnavailable(MadoguchiError):
    code = "service.unavailable"
    http_status = 503
    default_message = "サーバーに接続できません。しばらくしてからもう一度お試しください。"


class TooManyRequests(MadoguchiError):
    """One client asked too often in a short time (a rate limit); it may try again shortly."""

    code = "rate_limited"
    http_status = 429
    default_message = (
        "短時間に操作が続いたため、受け付けられませんでした。少し待ってからもう一度お試しください。"
    )


class DeviceError(MadoguchiError):
    """A scanner, printer, card reader or OCR engine failed; the message says what to do."""

    code = "device.error"
    http_status = 502
    default_message = "機器の操作に失敗しました。接続を確認してください。"


def invalid(code: str, message: str, **context: Any) -> PydanticCustomError:
    """An error for raising inside pydantic validators with a stable code and Japanese text.

    ``message`` may contain ``{name}`` placeholders filled from ``context``.
    """
    return PydanticCustomError(code, message, context or None)


# Japanese for the errors pydantic raises by itself, keyed by pydantic's error ``type``.
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "入力してください。",
    "string_type": "文字で入力してください。",
    "string_too_short": "{min_length}文字以上で入力してください。",
    "string_too_long": "{max_length}文字以内で入力してください。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "int_type": "整数で入力してください。",
    "int_parsing": "整数で入力してください。",
    "bool_type": "はい・いいえで指定してください。",
    "bool_parsing": "はい・いいえで指定してください。",
    "date_type": "日付で入力してください。",
    "date_parsing": "日付の形式が正しくありません。",
    "date_from_datetime_parsing": "日付の形式が正しくありません。",
    "datetime_type": "日時で入力してください。",
    "datetime_parsing": "日時の形式が正しくありません。",
    "enum": "選択肢の中から選んでください。",
    "literal_error": "選択肢の中から選んでください。",
    "list_type": "一覧の形式で指定してください。",
    "too_short": "{min_length}件以上指定してください。",
    "too_long": "{max_length}件以内で指定してください。",
    "model_type": "項目のまとまりの形式が正しくありません。",
    "dict_type": "項目のまとまりの形式が正しくありません。",
    "extra_forbidden": "この項目は指定できません。",
    "json_invalid": "JSONの形式が正しくありません。",
    "uuid_type": "識別子の形式が正しくありません。",
    "uuid_parsing": "識別子の形式が正しくありません。",
    "greater_than_equal": "{ge}以上の値を入力してください。",
    "less_than_equal": "{le}以下の値を入力してください。",
    "value_error": "値が正しくありません。",
}


def _location(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turn pydantic's ``ValidationError.errors()`` into ``[{field, code, message}]`` in Japanese.

    Custom errors raised with :func:`invalid` already carry Japanese; pydantic's own errors get a
    Japanese message from the table above. The input value itself is never copied into the
    result, so that a 個人番号 cannot leak into an error body or a log line.
    """
    described: list[dict[str, Any]] = []
    for err in errors:
        kind = str(err.get("type", "value_error"))
        ctx = dict(err.get("ctx") or {})
        template = _PYDANTIC_MESSAGES.get(kind)
        if template is not None:
            try:
                message = template.format(**ctx)
            except (KeyError, IndexError):
                message = template
        else:
            message = str(err.get("msg", "")) or "値が正しくありません。"
            if not _looks_japanese(message):
                message = "値が正しくありません。"
        described.append({"field": _location(err.get("loc", ())), "code": kind, "message": message})
    return described


def _looks_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)
