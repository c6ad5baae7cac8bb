"""Bad input gets a 4xx with a Japanese message, never echoes the 個人番号, and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.conftest import BAD_MY_NUMBER, Api, count_rows, reception_body


async def _post(api: Api, body: object, **kw: object) -> tuple[int, dict[str, Any], str]:
    headers = await api.headers()
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = await api.http.post(
        "/api/v1/receptions", content=content, headers={**headers, "Content-Type": "application/json"}
    )
    return r.status_code, r.json(), r.text


async def _assert_nothing_stored(api: Api) -> None:
    assert await count_rows(api.db, "receptions") == 0
    assert await count_rows(api.db, "reception_persons") == 0


def _japanese(text: object) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in str(text))


async def test_invalid_my_number_check_digit(api: Api) -> None:
    """A 個人番号 with a wrong check digit → 422 naming the field, without the digits."""
    status, body, text = await _post(api, reception_body(my_number=BAD_MY_NUMBER))
    assert status == 422
    assert _japanese(body["message"])
    assert any("my_number" in d["field"] for d in body["details"])
    assert BAD_MY_NUMBER not in text
    await _assert_nothing_stored(api)


async def test_invalid_relationship(api: Api) -> None:
    """An unknown 続柄 → 422 with a Japanese message."""
    status, body, _ = await _post(api, reception_body(relationship="宇宙人"))
    assert status == 422
    assert any("relationship" in d["field"] for d in body["details"])
    await _assert_nothing_stored(api)


async def test_unknown_field(api: Api) -> None:
    """An unknown field → 422 extra_forbidden in Japanese."""
    body = reception_body()
    body["notice"]["persons"][0]["favourite_colour"] = "blue"
    status, answer, _ = await _post(api, body)
    assert status == 422
    assert answer["details"][0]["code"] == "extra_forbidden"
    await _assert_nothing_stored(api)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(client_key=12),
        lambda b: b["notice"].update(persons="many"),
        lambda b: b["notice"].update(notified_on="yesterday"),
        lambda b: b["notice"].pop("kind"),
        lambda b: b["notice"]["persons"][0].update(birth_date=["x"]),
    ],
)
async def test_wrong_types(api: Api, mutate: object) -> None:
    """Wrong types and missing fields → 422 with Japanese details, nothing stored."""
    body = reception_body(my_number=BAD_MY_NUMBER[:-1] + "8")
    mutate(body)  # type: ignore[operator]
    status, answer, _ = await _post(api, body)
    assert status == 422
    assert all(_japanese(d["message"]) for d in answer["details"])
    await _assert_nothing_stored(api)


async def test_malformed_json(api: Api) -> None:
    """Broken JSON → 400 with a Japanese message."""
    status, body, _ = await _post(api, b'{"client_key": ')
    assert status == 400
    assert _japanese(body["message"])
    await _assert_nothing_stored(api)


async def test_oversized_body(api: Api) -> None:
    """A body over max_body_bytes → 413 in Japanese, nothing stored."""
    body = reception_body()
    body["notice"]["memo"] = "あ" * (api.settings.max_body_bytes // 2)
    status, answer, _ = await _post(api, body)
    assert status == 413
    assert answer["code"] == "payload_too_large"
    assert _japanese(answer["message"])
    await _assert_nothing_stored(api)


async def test_login_body_validation(api: Api) -> None:
    """A login with a missing password → 422 in Japanese, the password never echoed."""
    r = await api.http.post(
        "/api/v1/auth/login", json={"lg_code": "082104", "username": "demo", "pw": "s3cret!"}
    )
    assert r.status_code == 422
    assert "s3cret!" not in r.text
    assert _japanese(r.json()["message"])
