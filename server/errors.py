"""Exception handlers: every 4xx/5xx answer is ``shared.api.ErrorBody`` JSON in Japanese.

Input values are never copied into an answer or a log line (a 個人番号 could be among them):
validation errors are described by :func:`shared.errors.describe_validation_errors`, which only
uses field paths and error kinds.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from pydantic import ValidationError as PydanticValidationError

from shared.errors import InvalidInput, MadoguchiError, PayloadTooLarge, describe_validation_errors

log = logging.getLogger("server.errors")

_HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "リクエストの形式が正しくありません。"),
    401: ("auth.required", "ログインしてください。"),
    403: ("permission.denied", "この操作を行う権限がありません。"),
    404: ("not_found", "対象が見つかりません。"),
    405: ("method_not_allowed", "この操作はできません。"),
    406: ("not_acceptable", "応答の形式に対応していません。"),
    409: ("conflict", "他の操作と競合しました。もう一度お試しください。"),
    413: (PayloadTooLarge.code, PayloadTooLarge.default_message),
    415: ("unsupported_media_type", "送信されたデータの形式に対応していません。JSONで送信してください。"),
    429: ("too_many_requests", "リクエストが多すぎます。しばらくしてからもう一度お試しください。"),
}


def _body(error: MadoguchiError) -> dict[str, Any]:
    return error.to_dict()


def madoguchi_error_handler(_request: Request[Any, Any, Any], exc: MadoguchiError) -> Response[Any]:
    return Response(_body(exc), status_code=exc.http_status)


def _pydantic_cause(exc: BaseException) -> PydanticValidationError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PydanticValidationError):
            return current
        current = current.__cause__ or current.__context__
    return None


def validation_error_handler(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Body/parameter validation: 422 with Japanese details for bodies, 400 for other input."""
    cause = _pydantic_cause(exc)
    if cause is not None:
        details = describe_validation_errors(cause.errors(include_input=False))
        first = details[0] if details else None
        error = InvalidInput(
            first["message"] if first and len(details) == 1 else None,
            field=first["field"] if first and len(details) == 1 else None,
            details=details,
        )
        return Response(_body(error), status_code=error.http_status)
    # Path/query/header problems or malformed JSON: field names only, never values.
    details = [
        {"field": str(e.get("key", "")), "code": "invalid", "message": "値が正しくありません。"}
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    message = "リクエストの形式が正しくありません。"
    if "JSON" in str(exc.detail) or "malformed" in str(exc.detail).lower():
        message = "JSONの形式が正しくありません。"
    body: dict[str, Any] = {"code": "bad_request", "message": message}
    if details:
        body["details"] = details
    return Response(body, status_code=400)


def http_exception_handler(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code, message = _HTTP_MESSAGES.get(
        status,
        ("server.error", "サーバーでエラーが発生しました。")
        if status >= 500
        else ("bad_request", "処理できませんでした。"),
    )
    if status >= 500:
        log.error("HTTP %s: %s", status, type(exc).__name__)
    return Response({"code": code, "message": message}, status_code=status, headers=exc.headers or None)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything unexpected: logged with type and place only (no values), generic Japanese answer."""
    if isinstance(exc, MadoguchiError):
        return madoguchi_error_handler(request, exc)
    if isinstance(exc, HTTPException):
        return http_exception_handler(request, exc)
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    log.error("unexpected %s at %s on %s %s", type(exc).__name__, where, request.method, request.url.path)
    return Response(
        {
            "code": "server.error",
            "message": "サーバーで予期しないエラーが発生しました。しばらくしてからもう一度お試しください。",
        },
        status_code=500,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    MadoguchiError: madoguchi_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
