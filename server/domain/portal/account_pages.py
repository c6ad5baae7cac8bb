"""HTTP routes of resident accounts (``/portal/{lg_code}/account/…``), all public HTML forms.

Two cookies, both HttpOnly, SameSite=Lax and scoped to ``/portal/{lg_code}/``: ``portal_csrf``
(a random value; every account form carries a token derived from it) and ``portal_account`` (the
login, see :mod:`server.domain.portal.accounts`). Without JavaScript everything works.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.engine import Database
from server.db.models import ResidentAccount
from server.deps import key_ring
from server.domain.accounts.access import PUBLIC
from server.domain.accounts.guards import request_client_ip
from server.domain.eforms.services import STATUS_LABELS
from server.domain.payments import services as payments
from server.domain.portal import accounts as A
from server.domain.portal.html import csrf_token, page, verify_csrf
from server.plugins.payments import PaymentDeclined
from shared.errors import InvalidInput, MadoguchiError

Req = Request[Any, Any, Any]

CSRF_COOKIE = "portal_csrf"
LOGIN_COOKIE = "portal_account"
#: Longest value read from any one account form input (longer ones are refused by the checks).
INPUT_CUT = 1000


async def _site(db: Database, lg_code: str) -> dict[str, Any]:
    from server.domain.portal.controllers import _site as site_of

    return await site_of(db, lg_code)


def _cookie(settings: Settings, lg_code: str, key: str, value: str, max_age: int | None) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        path=f"/portal/{lg_code}/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        max_age=max_age,
    )


def csrf_cookie(request: Req, settings: Settings, lg_code: str) -> tuple[str, list[Cookie]]:
    """The visitor's CSRF secret, and the cookie to set when it is new."""
    value = request.cookies.get(CSRF_COOKIE)
    if value and 20 <= len(value) <= 100:
        return value, []
    value = secrets.token_urlsafe(24)
    return value, [_cookie(settings, lg_code, CSRF_COOKIE, value, None)]


def check_csrf(request: Req, form: Any) -> None:
    verify_csrf(request.cookies.get(CSRF_COOKIE), form, code="portal.csrf")


def login_cookie(request: Req) -> str | None:
    return request.cookies.get(LOGIN_COOKIE)


def _ua(request: Req) -> str:
    return request.headers.get("user-agent", "")


def _get(form: Any, name: str) -> str:
    return str(form.get(name) or "")[:INPUT_CUT]


def _render(
    request: Req,
    settings: Settings,
    site: dict[str, Any],
    template: str,
    status: int = 200,
    extra_cookies: list[Cookie] | None = None,
    **ctx: Any,
) -> Response[str]:
    secret, cookies = csrf_cookie(request, settings, site["lg_code"])
    context = {**site, "account_url": f"{site['home_url']}account", "csrf": csrf_token(secret), **ctx}
    return page(
        f"portal/{template}",
        context,
        status=status,
        cookies=cookies + (extra_cookies or []),
        user_agent=_ua(request),
    )


def _message(
    request: Req,
    settings: Settings,
    site: dict[str, Any],
    title: str,
    text: str,
    status: int = 200,
    **ctx: Any,
) -> Response[str]:
    return _render(request, settings, site, "account_message.html", status, title=title, text=text, **ctx)


# ---------------------------------------------------------------- register and verify


@get("/account/register", opt=PUBLIC, include_in_schema=False)
async def register_page(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[str]:
    """The registration form."""
    site = await _site(db, lg_code)
    return _render(
        request,
        settings,
        site,
        "account_register.html",
        v={"applicant_type": "individual"},
        errors={},
        types=A.APPLICANT_LABELS,
        min_length=settings.portal_password_min_length,
    )


@post("/account/register", opt=PUBLIC, include_in_schema=False)
async def register(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[str]:
    """Check the form, create the account, mail the link; the same answer for a known address."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    reg = A.Registration(
        email=_get(form, "email"),
        password=_get(form, "password"),
        password2=_get(form, "password2"),
        applicant_type=_get(form, "applicant_type"),
        name=_get(form, "name"),
        corporate_number=_get(form, "corporate_number"),
    )
    try:
        async with db.tenant(site["lg_code"]) as session:
            await A.register(session, settings, site["lg_code"], reg, request_client_ip(request))
    except A.FormErrors as exc:
        shown = {k: v for k, v in vars(reg).items() if k not in ("password", "password2", "errors")}
        return _render(
            request,
            settings,
            site,
            "account_register.html",
            422,
            v=shown,
            errors=exc.errors,
            types=A.APPLICANT_LABELS,
            min_length=settings.portal_password_min_length,
        )
    return _message(
        request,
        settings,
        site,
        "確認メールを送りました",
        "入力されたメールアドレスに確認のメールを送りました。メールに記載のリンクを開くと登録が完了します。"
        "メールが届かない場合は、迷惑メールフォルダもご確認ください。",
    )


@get("/account/verify", opt=PUBLIC, include_in_schema=False)
async def verify(
    lg_code: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    token: FromQuery[str] = "",
) -> Response[str]:
    """The link of the registration mail."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        ok = await A.verify_email(session, site["lg_code"], token[:200], request_client_ip(request))
    if ok:
        return _message(
            request,
            settings,
            site,
            "登録が完了しました",
            "メールアドレスを確認しました。ログインしてください。",
            login_link=True,
        )
    return _message(
        request,
        settings,
        site,
        "リンクが無効です",
        "このリンクは使用済みか、有効期限が切れています。もう一度登録するか、パスワードの再設定をしてください。",
        status=400,
    )


# ---------------------------------------------------------------- login and logout


@get("/account/login", opt=PUBLIC, include_in_schema=False)
async def login_page(
    lg_code: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    out: FromQuery[int] = 0,
) -> Response[str]:
    """The login form."""
    site = await _site(db, lg_code)
    return _render(request, settings, site, "account_login.html", email="", error=None, logged_out=bool(out))


@post("/account/login", opt=PUBLIC, include_in_schema=False)
async def login(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """Check the password (with lockout); on success set the login cookie and go to my page."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    email = _get(form, "email")
    async with db.tenant(site["lg_code"]) as session:
        outcome = await A.login(
            session, settings, site["lg_code"], email, _get(form, "password"), request_client_ip(request)
        )
        value = (
            A.session_cookie_value(key_ring(request.app.state), settings, outcome)
            if not isinstance(outcome, str)
            else None
        )
    if value is None:
        return _render(
            request, settings, site, "account_login.html", 401, email=email[: A.EMAIL_MAX], error=outcome
        )
    cookies = [
        _cookie(settings, site["lg_code"], LOGIN_COOKIE, value, settings.portal_session_minutes * 60),
        # A fresh CSRF secret after login, so a token seen before it is worth nothing.
        _cookie(settings, site["lg_code"], CSRF_COOKIE, secrets.token_urlsafe(24), None),
    ]
    return Redirect(f"{site['home_url']}account", status_code=HTTP_303_SEE_OTHER, cookies=cookies)


@post("/account/logout", opt=PUBLIC, include_in_schema=False)
async def logout(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """End every login of the account and forget the cookie."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    async with db.tenant(site["lg_code"]) as session:
        account = await _signed_in(session, request, site)
        if account is not None:
            await A.logout(session, account, request_client_ip(request))
    gone = _cookie(settings, site["lg_code"], LOGIN_COOKIE, "", 0)
    return Redirect(f"{site['home_url']}account/login?out=1", status_code=HTTP_303_SEE_OTHER, cookies=[gone])


# ---------------------------------------------------------------- password reset


RESET_SENT = (
    "ご入力のメールアドレスが登録されている場合は、パスワード再設定のリンクをお送りしました。"
    "メールに記載のリンクから新しいパスワードを設定してください。"
)


@get("/account/reset", opt=PUBLIC, include_in_schema=False)
async def reset_page(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[str]:
    """Ask for a reset link."""
    site = await _site(db, lg_code)
    return _render(request, settings, site, "account_reset.html", email="", errors={})


@post("/account/reset", opt=PUBLIC, include_in_schema=False)
async def reset_request(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[str]:
    """Mail a reset link if the address is registered; the answer never says whether it is."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    email = _get(form, "email")
    try:
        async with db.tenant(site["lg_code"]) as session:
            await A.request_reset(session, settings, site["lg_code"], email, request_client_ip(request))
    except A.FormErrors as exc:
        return _render(
            request, settings, site, "account_reset.html", 422, email=email[: A.EMAIL_MAX], errors=exc.errors
        )
    return _message(request, settings, site, "再設定のご案内", RESET_SENT)


INVALID_RESET = (
    "このリンクは使用済みか、有効期限が切れています。もう一度パスワードの再設定をお申し込みください。"
)


@get("/account/reset/confirm", opt=PUBLIC, include_in_schema=False)
async def reset_confirm_page(
    lg_code: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    token: FromQuery[str] = "",
) -> Response[str]:
    """The new-password form of a reset link."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        account = await A.reset_target(session, site["lg_code"], token[:200])
    if account is None:
        return _message(request, settings, site, "リンクが無効です", INVALID_RESET, status=400)
    return _render(
        request,
        settings,
        site,
        "account_reset_confirm.html",
        token=token[:200],
        errors={},
        min_length=settings.portal_password_min_length,
    )


@post("/account/reset/confirm", opt=PUBLIC, include_in_schema=False)
async def reset_confirm(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[str]:
    """Set the new password; the link is spent."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    token = _get(form, "token")[:200]
    try:
        async with db.tenant(site["lg_code"]) as session:
            ok = await A.reset_password(
                session,
                settings,
                site["lg_code"],
                token,
                _get(form, "password"),
                _get(form, "password2"),
                request_client_ip(request),
            )
    except A.FormErrors as exc:
        return _render(
            request,
            settings,
            site,
            "account_reset_confirm.html",
            422,
            token=token,
            errors=exc.errors,
            min_length=settings.portal_password_min_length,
        )
    if not ok:
        return _message(request, settings, site, "リンクが無効です", INVALID_RESET, status=400)
    gone = _cookie(settings, site["lg_code"], LOGIN_COOKIE, "", 0)
    return _message(
        request,
        settings,
        site,
        "パスワードを変更しました",
        "新しいパスワードでログインしてください。",
        login_link=True,
        extra_cookies=[gone],
    )


async def _signed_in(session: AsyncSession, request: Req, site: dict[str, Any]) -> ResidentAccount | None:
    """The resident logged in with this request's cookie, or None."""
    keys = key_ring(request.app.state)
    return await A.current_account(session, keys, site["lg_code"], login_cookie(request))


def _to_login(site: dict[str, Any]) -> Redirect:
    return Redirect(f"{site['home_url']}account/login", status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- my applications


@get("/account", opt=PUBLIC, include_in_schema=False)
async def my_page(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """My applications, their status, links to each."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        account = await _signed_in(session, request, site)
        if account is None:
            return _to_login(site)
        apps = await A.applications_of(session, account)
    card, card_error = None, None
    try:
        card = await payments.saved_card(settings, key_ring(request.app.state), account)
    except MadoguchiError as exc:  # the provider is down: the page still opens
        card_error = exc.message
    return _render(
        request,
        settings,
        site,
        "account_home.html",
        account=account,
        type_label=A.APPLICANT_LABELS.get(account.applicant_type, ""),
        apps=apps,
        labels=STATUS_LABELS,
        logged_in=True,
        card=card,
        card_error=card_error,
    )


# ---------------------------------------------------------------- 登録内容の変更 (申請者の種別)

SETTINGS_NOTICE = "登録内容を変更しました。これから始める申請では、申請者の種別にこの内容が選ばれます。"


def _settings_page(
    request: Req, settings: Settings, site: dict[str, Any], status: int = 200, **ctx: Any
) -> Response[str]:
    return _render(
        request,
        settings,
        site,
        "account_settings.html",
        status,
        types=A.APPLICANT_LABELS,
        logged_in=True,
        **{"errors": {}, "notice": None, "lookup": None, **ctx},
    )


@get("/account/settings", opt=PUBLIC, include_in_schema=False)
async def settings_page(
    lg_code: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    saved: FromQuery[int] = 0,
) -> Response[Any]:
    """申請者の種別 (個人 / 法人 / 団体), 氏名 or 名称, and a 法人's 法人番号 with its lookup."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        account = await _signed_in(session, request, site)
        if account is None:
            return _to_login(site)
        v = {
            "applicant_type": account.applicant_type,
            "name": account.name,
            "corporate_number": account.corporate_number or "",
        }
    return _settings_page(request, settings, site, v=v, notice=SETTINGS_NOTICE if saved else None)


@post("/account/settings", opt=PUBLIC, include_in_schema=False)
async def settings_save(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """Save the profile; ``action=lookup`` first asks the 法人番号 service for the 名称 (nothing is
    saved then). A wrong input comes back with the message at the field and everything typed."""
    from server.domain.eforms import corporate

    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    v = {k: _get(form, k) for k in ("applicant_type", "name", "corporate_number")}
    ip = request_client_ip(request)
    async with db.tenant(site["lg_code"]) as session:
        account = await _signed_in(session, request, site)
        if account is None:
            return _to_login(site)
        if _get(form, "action") == "lookup":
            try:
                found = await corporate.guard_of(request.app.state).find(
                    A.clean_corporate_number(v["corporate_number"]), ip
                )
            except MadoguchiError as exc:
                return _settings_page(
                    request, settings, site, 422, v=v, errors={"corporate_number": exc.message}
                )
            v["name"], v["applicant_type"] = found.name, "corporation"
            lookup = {
                "text": f"{found.name}（{found.address}）を名称に入れました。違う場合は直接直してください。",
                "closed": corporate.CLOSED if found.closed else None,
                "notice": corporate.notice(settings),
            }
            return _settings_page(request, settings, site, v=v, lookup=lookup)
        try:
            await A.update_profile(
                session, account, v["applicant_type"], v["name"], v["corporate_number"], ip
            )
        except A.FormErrors as exc:
            return _settings_page(request, settings, site, 422, v=v, errors=exc.errors)
    return Redirect(f"{site['home_url']}account/settings?saved=1", status_code=HTTP_303_SEE_OTHER)


# ---------------------------------------------------------------- saved card (spec 002 6(1)④)

CARD_NOTICES = {"saved": "カードを登録しました。", "deleted": "カードの登録を削除しました。"}


def _card_page(
    request: Req,
    settings: Settings,
    site: dict[str, Any],
    status: int = 200,
    **ctx: Any,
) -> Response[str]:
    """The card page: the sandbox's test form, or PAY.JP Checkout (its CSP on this page only)."""
    from server.domain.portal.controllers import PAYJP_CSP

    payjp = settings.payment_provider == "payjp"
    secret, cookies = csrf_cookie(request, settings, site["lg_code"])
    context = {
        **site,
        "account_url": f"{site['home_url']}account",
        "csrf": csrf_token(secret),
        "logged_in": True,
        "payjp_key": settings.payjp_public_key if payjp else "",
        "errors": {},
        "v": {},
        **ctx,
    }
    return page(
        "portal/account_card.html",
        context,
        status=status,
        cookies=cookies,
        user_agent=_ua(request),
        csp_sources=PAYJP_CSP if payjp else None,
    )


async def _card_of(request: Req, settings: Settings, account: Any) -> tuple[Any, bool]:
    """The saved card, and whether one is recorded here that the provider no longer knows."""
    card = await payments.saved_card(settings, key_ring(request.app.state), account)
    return card, card is None and bool(account.payment_customer)


@get("/account/card", opt=PUBLIC, include_in_schema=False)
async def card_page(
    lg_code: FromPath[str],
    request: Req,
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    notice: FromQuery[str] = "",
) -> Response[Any]:
    """The saved card (brand, last 4, expiry), a form to register or replace it, and delete."""
    site = await _site(db, lg_code)
    async with db.tenant(site["lg_code"]) as session:
        account = await _signed_in(session, request, site)
        if account is None:
            return _to_login(site)
        card, lost = await _card_of(request, settings, account)
    return _card_page(request, settings, site, card=card, lost=lost, notice=CARD_NOTICES.get(notice))


@post("/account/card", opt=PUBLIC, include_in_schema=False)
async def card_save(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """Register (or replace) the card: sandbox fields or a PAY.JP Checkout token."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    keys = key_ring(request.app.state)
    shown = {"exp_month": _get(form, "exp_month")[:2], "exp_year": _get(form, "exp_year")[:4]}
    async with db.tenant(site["lg_code"]) as session:
        account = await A.current_account(session, keys, site["lg_code"], login_cookie(request))
        if account is None:
            return _to_login(site)
        provider = payments.provider_for(settings, keys)
        try:
            tokenise = getattr(provider, "tokenise", None)
            if tokenise is not None:  # the sandbox's card page is this form
                token = tokenise(
                    card_number=_get(form, "card")[:30],
                    exp_month=_get(form, "exp_month")[:4],
                    exp_year=_get(form, "exp_year")[:6],
                )
            else:
                token = _get(form, "payjp-token")[:100]
            await payments.save_card(
                session,
                settings,
                keys,
                account,
                token,
                A._actor(account, request_client_ip(request)),
            )
        except (PaymentDeclined, InvalidInput) as exc:
            field = exc.field if isinstance(exc, InvalidInput) and exc.field else None
            field = field or ("card" if tokenise is not None else "payjp")
            card, lost = await _card_of(request, settings, account)
            status = 402 if isinstance(exc, PaymentDeclined) else 422
            return _card_page(
                request, settings, site, status, card=card, lost=lost, errors={field: exc.message}, v=shown
            )
    return Redirect(f"{site['home_url']}account/card?notice=saved", status_code=HTTP_303_SEE_OTHER)


@post("/account/card/delete", opt=PUBLIC, include_in_schema=False)
async def card_delete(
    lg_code: FromPath[str], request: Req, db: NamedDependency[Database], settings: NamedDependency[Settings]
) -> Response[Any]:
    """Delete the saved card here and at the provider."""
    site = await _site(db, lg_code)
    form = await request.form()
    check_csrf(request, form)
    keys = key_ring(request.app.state)
    async with db.tenant(site["lg_code"]) as session:
        account = await A.current_account(session, keys, site["lg_code"], login_cookie(request))
        if account is None:
            return _to_login(site)
        await payments.delete_card(
            session, settings, keys, account, A._actor(account, request_client_ip(request))
        )
    return Redirect(f"{site['home_url']}account/card?notice=deleted", status_code=HTTP_303_SEE_OTHER)


route_handlers: list[Any] = [
    register_page,
    register,
    verify,
    login_page,
    login,
    logout,
    reset_page,
    reset_request,
    reset_confirm_page,
    reset_confirm,
    my_page,
    settings_page,
    settings_save,
    card_page,
    card_save,
    card_delete,
]
