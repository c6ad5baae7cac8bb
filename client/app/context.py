"""The composition root's object graph (Qt-free): settings, station, devices, outbox, session, sync.

The UI receives one :class:`AppContext` and calls its methods from worker threads; nothing here
imports Qt, so the whole flow can be driven from tests and scripts without a display.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from client.core.api import ApiClient
from client.core.auth import Session, TokenStore, login
from client.core.draft import DraftStore
from client.core.outbox import Outbox
from client.core.sync import Backoff, SyncWorker
from shared.api import StationMode
from shared.errors import MadoguchiError
from shared.schemas.device_profiles import StationProfile

from .settings import ClientSettings
from .wiring import Devices, build_devices, load_station

log = logging.getLogger(__name__)

LAST_LOGIN_FILE = "last_login.json"


@dataclass
class AppContext:
    settings: ClientSettings
    station: StationProfile
    devices: Devices
    outbox: Outbox
    tokens: TokenStore
    worker: SyncWorker
    drafts: DraftStore
    session: Session | None = None
    _listeners: list[object] = field(default_factory=list)

    def token(self) -> str | None:
        return self.session.token if self.session else None

    def api(self) -> ApiClient:
        return ApiClient(
            self.settings.server_url, timeout=self.settings.request_timeout_s, token=self.token()
        )

    def login(self, lg_code: str, username: str, password: str, totp_code: str | None = None) -> Session:
        """Log in (blocking: call it from a worker); remembers who logged in and resumes sending."""
        with self.api() as api:
            session = login(
                api,
                self.tokens,
                lg_code=lg_code,
                username=username,
                password=password,
                totp_code=totp_code,
                terminal_id=self.settings.terminal_id,
            )
        self.session = session
        self._remember(session)
        self.worker.resume()
        return session

    def _remember(self, session: Session) -> None:
        path = self.settings.data_dir / LAST_LOGIN_FILE
        data = {"lg_code": session.user.lg_code, "username": session.user.username}
        try:
            path.write_text(json.dumps(data), encoding="utf-8")
        except OSError:
            log.warning("could not write %s", path)

    def restore_session(self) -> Session | None:
        """Reuse the token kept in the keyring if the server still accepts it (blocking)."""
        path = self.settings.data_dir / LAST_LOGIN_FILE
        try:
            last = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        account = TokenStore.account(
            self.settings.server_url, str(last.get("lg_code")), str(last.get("username"))
        )
        token = self.tokens.load(account)
        if not token:
            return None
        try:
            with ApiClient(
                self.settings.server_url, timeout=self.settings.request_timeout_s, token=token
            ) as api:
                user = api.me()
        except MadoguchiError:
            return None
        self.session = Session(self.settings.server_url, token, None, user)
        self.worker.resume()
        return self.session

    def logout(self) -> None:
        """Forget the session locally (and on the server if reachable)."""
        session, self.session = self.session, None
        if session is None:
            return
        self.tokens.delete(
            TokenStore.account(session.server_url, session.user.lg_code, session.user.username)
        )
        try:
            with ApiClient(
                session.server_url, timeout=self.settings.request_timeout_s, token=session.token
            ) as api:
                api.logout()
        except MadoguchiError:
            log.info("server logout failed; the token expires on its own")

    def allowed_modes(self) -> list[StationMode]:
        if self.session is None:
            return []
        return self.session.allowed_modes(list(self.station.modes))

    def close(self) -> None:
        self.worker.stop()
        self.outbox.close()
        self.drafts.close()


def build_context(settings: ClientSettings) -> AppContext:
    """Wire everything for one terminal (no network call, no Qt)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    station = load_station(settings.station_dir, settings.station)
    devices = build_devices(station)
    outbox = Outbox(settings.outbox_path)
    tokens = TokenStore(use_keyring=settings.use_keyring)
    holder: dict[str, AppContext] = {}
    worker = SyncWorker(
        outbox,
        settings.server_url,
        lambda: holder["ctx"].token(),
        timeout=settings.request_timeout_s,
        backoff=Backoff(base=settings.sync_backoff_base_s, cap=settings.sync_backoff_cap_s),
        poll_interval=settings.sync_poll_interval_s,
    )
    drafts = DraftStore(settings.drafts_path)
    ctx = AppContext(settings, station, devices, outbox, tokens, worker, drafts)
    holder["ctx"] = ctx
    return ctx
