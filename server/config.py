"""Server settings, read from the environment (prefix ``MADOGUCHI_``) and documented per field.

One :class:`Settings` object is built at start-up (``get_settings()`` caches the one read from the
environment), stored in ``app.state.settings`` and passed explicitly to everything that needs it.
Each field's docstring is the documentation an operator reads; ``python -m server`` shows them too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the server. Environment variables are ``MADOGUCHI_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(
        env_prefix="MADOGUCHI_",
        use_attribute_docstrings=True,
        extra="ignore",
        env_parse_none_str="",
    )

    data_dir: Path = Path("./var")
    """Folder for the SQLite database, the key file and blobs. Created when missing."""

    database_url: str = ""
    """SQLAlchemy async URL. Empty: ``sqlite+aiosqlite:///<data_dir>/madoguchi.db``.
    PostgreSQL: ``postgresql+psycopg://user@host/db`` (row-level security per municipality). The
    server should connect as ``db_app_role``; migrations run as the owner. A superuser would bypass
    row-level security."""

    db_app_role: str = "madoguchi_app"
    """PostgreSQL: the login role the application connects as (not the owner, not a superuser).
    The migrations grant it exactly the privileges it needs; audit rows only SELECT and INSERT."""

    demo: bool = False
    """Demo mode: creates a key file automatically and allows ``demo seed``. Never in production."""

    session_ttl_minutes: int = Field(default=600, ge=1)
    """How long a login token stays valid (minutes). One counter shift by default."""

    lockout_threshold: int = Field(default=5, ge=1)
    """Failed logins in a row after which the account is locked."""

    lockout_minutes: int = Field(default=30, ge=1)
    """How long a locked account stays locked (minutes)."""

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest JSON request body accepted (bytes); larger bodies get 413."""

    lgwan_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    )
    """Networks treated as inside LGWAN (CIDR list, JSON in the environment). Staff logins from
    inside need no allow-list; from anywhere else only from the municipality's allowed networks
    and only with the second factor (TOTP)."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Reverse proxies (CIDR list) whose ``X-Forwarded-For`` header is believed for the client IP."""

    key_file: Path | None = None
    """JSON key file ``{"current": id, "keys": {id: base64}, "hmac_key": base64}`` for 個人番号 and
    TOTP secrets. Empty: ``<data_dir>/keys.json``. Create it with ``python -m server keys generate``."""

    ipamj_font: Path | None = None
    """IPAmj明朝 (``ipamjm.ttf``) for the PDFs the server draws (operation reports). Empty: Debian's
    ``fonts-ipamj-mincho`` paths. A missing font is an error, never a substitute."""

    log_level: str = "INFO"
    """Python logging level of the server."""

    server_workers: int = Field(default=0, ge=0)
    """Processes ``madoguchi-server run`` starts (uvicorn workers), each with its own connection
    pool; one process uses one CPU core for HTTP, JSON and Python. ``0``: automatic — on
    PostgreSQL one per CPU core, as far as ``max_connections`` leaves room for every process's
    pool; on SQLite one."""

    db_pool_size: int = Field(default=10, ge=1)
    """PostgreSQL: connections each server process keeps open. Requests beyond it wait for a free
    one (plus ``db_pool_overflow`` extra ones opened on demand)."""

    db_pool_overflow: int = Field(default=10, ge=0)
    """PostgreSQL: connections opened beyond ``db_pool_size`` under load and closed after use.
    Keep ``server_workers × (db_pool_size + db_pool_overflow)`` below the server's
    ``max_connections``."""

    # -- records: archive, retention, backups (issue 5) -----------------------------------------

    blob_store: str = "filesystem"
    """Where archived documents are stored: ``filesystem`` (``blob_dir``), ``s3`` (S3-compatible
    object storage) or ``memory`` (tests only)."""

    blob_dir: Path | None = None
    """Folder of the ``filesystem`` blob store. Empty: ``<data_dir>/blobs``."""

    s3_endpoint_url: str = ""
    """``s3`` blob store: endpoint of an S3-compatible service (MinIO, Ceph …); empty for AWS."""

    s3_bucket: str = ""
    """``s3`` blob store: bucket name."""

    s3_prefix: str = ""
    """``s3`` blob store: key prefix inside the bucket (several deployments can share one)."""

    s3_region: str = ""
    """``s3`` blob store: region name (empty: the client's default)."""

    s3_access_key_id: str = ""
    """``s3`` blob store: access key id (empty: boto3's usual credential chain)."""

    s3_secret_access_key: SecretStr | None = None
    """``s3`` blob store: secret access key."""

    attachment_max_bytes: int = Field(default=20_000_000, ge=1024)
    """Largest attachment (scan, 委任状, PDF) accepted in bytes."""

    attachment_max_reception_bytes: int = Field(default=100_000_000, ge=1024)
    """Largest total size of all attachments of one reception in bytes."""

    attachment_max_pages: int = Field(default=50, ge=1)
    """Most pages (PDF pages or TIFF frames) one attachment may have."""

    attachment_max_pixels: int = Field(default=60_000_000, ge=1)
    """Most pixels per image page (width × height); larger images are refused as decompression
    bombs before they are decoded. 60 M px is A3 at 600 dpi with room to spare."""

    retention_years: int = Field(default=5, ge=1)
    """Years a reception and its documents are kept after the 受付日 before the purge job may
    delete them. The legal minimum (住基法施行令 34条4項) is 1 year; 3–5 is usual."""

    retention_years_by_municipality: dict[str, int] = Field(default_factory=dict)
    """Per-municipality retention (JSON ``{"082104": 3}``) overriding ``retention_years``."""

    backup_dir: Path | None = None
    """Folder of the backups (one sub-folder per generation). Empty: ``<data_dir>/backups``."""

    backup_database_url: str = ""
    """PostgreSQL: URL pg_dump / pg_restore connect with — the tables' owner (the app role sees no
    rows under row-level security). Needed when the server's built-in scheduler takes the backup;
    empty: ``database_url``. Unused on SQLite."""

    backup_generations: int = Field(default=7, ge=1)
    """How many verified backups are kept; older ones are removed after a new one is verified."""

    scheduler_enabled: bool = True
    """Run the built-in scheduler inside the server (daily backup, monthly operation report). Every
    server process may run it: a row per job and period in ``scheduled_runs`` makes sure only one
    process runs each. Turn it off when a systemd timer or cron runs the CLI instead."""

    scheduler_interval_seconds: int = Field(default=60, ge=5)
    """How often the built-in scheduler checks for due jobs (seconds)."""

    schedule_backup_enabled: bool = True
    """Built-in scheduler: take the daily backup (written, verified, ``backup_generations`` kept)."""

    schedule_backup_time: str = Field(default="02:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """Built-in scheduler: time of day (Japan time, HH:MM) of the daily backup. A server that was
    down then takes it as soon as it runs again the same day."""

    schedule_report_enabled: bool = True
    """Built-in scheduler: store last month's operation report (PDF and CSV) for every municipality
    on the first day of each month; supervisors fetch it in 運用報告."""

    schedule_report_time: str = Field(default="03:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """Built-in scheduler: time of day (Japan time, HH:MM) of the monthly operation report."""

    schedule_signing_sweep_enabled: bool = True
    """Built-in scheduler: every hour, delete the JPKI signing attempts still open after
    ``jpki_app_transaction_minutes`` (the resident never came back from the signing app), with the
    nonce and PKCE verifier kept for them; each is audited. Without the built-in scheduler run
    ``madoguchi-server eforms sweep-signatures`` from a timer."""

    search_page_size_max: int = Field(default=200, ge=1)
    """Largest page of reception search results."""

    phrases_max_per_user: int = Field(default=300, ge=1)
    """語句登録: most phrases one clerk may keep in his own list."""

    phrases_max_per_office: int = Field(default=2000, ge=1)
    """語句登録: most phrases in a municipality's shared (団体共通) list."""
    search_count_limit: int = Field(default=1000, ge=1)
    """Reception searches count matches up to this number only; beyond it the answer says
    "N 件以上" (``total_capped``). Counting every match of a common name in millions of
    receptions costs more than the page itself. A name search answered from its keys (see
    ``search_keyed_scan_max``) gives the exact number however large."""

    search_keyed_scan_max: int = Field(default=20_000, ge=1)
    """A reception search by name (with birth date and 受付日 range, sorted by 受付番号) whose
    name has fewer search keys than this is answered from the key index alone, with its exact
    total; a name with more (佐藤 alone, one kana) walks the receptions newest first instead."""

    # -- online applications: portal, mail, payment (issue 6) -----------------------------------

    public_base_url: str = "http://127.0.0.1:8000"
    """Address residents reach the portal at (scheme, host, port; no trailing slash). Used in the
    links of mails (resume a draft, status page, pay a postpayment)."""

    mail_transport: str = "smtp"
    """How queued mails leave: ``smtp`` or ``memory`` (tests and demos; nothing is sent)."""

    mail_from: str = "no-reply@madoguchi.invalid"
    """Sender address of mails to residents."""

    smtp_host: str = "localhost"
    """``smtp`` transport: SMTP server host."""

    smtp_port: int = Field(default=25, ge=1, le=65535)
    """``smtp`` transport: SMTP server port."""

    smtp_starttls: bool = False
    """``smtp`` transport: upgrade the connection with STARTTLS before sending."""

    smtp_username: str = ""
    """``smtp`` transport: login name (empty: no login)."""

    smtp_password: SecretStr | None = None
    """``smtp`` transport: password for ``smtp_username``."""

    mail_max_attempts: int = Field(default=8, ge=1)
    """Delivery attempts per mail before it is marked failed (back-off 1, 2, 4 … 60 minutes). The
    sender is ``madoguchi-server mail send`` (once, from a timer) or ``mail send --loop 30``."""

    payment_provider: str = "sandbox"
    """Payment provider plugin for card payments: ``sandbox`` (a hosted test card page on this
    server; no money moves) or ``payjp`` (PAY.JP; the ``payjp_*`` settings below)."""

    payjp_secret_key: SecretStr | None = None
    """``payjp``: secret API key (``sk_live_…``, or ``sk_test_…`` for PAY.JP's test mode). Server only."""

    payjp_public_key: str = ""
    """``payjp``: public key (``pk_live_…`` / ``pk_test_…``) for PAY.JP Checkout on the pay page, which
    turns the card into a token in the resident's browser (card numbers never reach this server)."""

    payjp_webhook_token: SecretStr | None = None
    """``payjp``: the webhook token shown in PAY.JP's dashboard; PAY.JP sends it as
    ``X-Payjp-Webhook-Token`` with every event and events without it are refused."""

    payjp_api_base: str = "https://api.pay.jp"
    """``payjp``: API address (changed only by tests, which serve recorded answers locally)."""

    payjp_timeout_s: float = Field(default=30.0, gt=0)
    """``payjp``: seconds to wait for one API answer."""

    payjp_max_retries: int = Field(default=2, ge=0, le=5)
    """``payjp``: retries after a network error, 429 or 5xx; every retry carries the same
    ``Idempotency-Key``, so PAY.JP never charges twice."""

    payjp_charge_expiry_days: int = Field(default=7, ge=1, le=60)
    """``payjp``: days an authorised (not yet captured) charge stays valid (PAY.JP allows 1–60)."""

    payjp_webhook_max_age_s: int = Field(default=259_200, ge=60)
    """``payjp``: events older than this (seconds, by their ``created`` time) are refused; PAY.JP
    retries an unanswered event for up to three days."""

    eform_code_minutes: int = Field(default=30, ge=1)
    """How long the code mailed to a guest applicant stays valid (minutes)."""

    portal_password_min_length: int = Field(default=10, ge=8, le=64)
    """Shortest password a resident may choose for a portal account (characters)."""

    portal_verify_hours: int = Field(default=24, ge=1)
    """How long the link mailed at portal registration stays valid (hours)."""

    portal_reset_minutes: int = Field(default=30, ge=5)
    """How long a mailed password-reset link stays valid (minutes); it works once."""

    portal_session_minutes: int = Field(default=120, ge=5)
    """How long a resident stays logged in to the portal (minutes)."""

    staff_email_verify_hours: int = Field(default=24, ge=1, le=168)
    """How long the link mailed to confirm a staff member's e-mail address stays valid (hours);
    it works once."""

    # -- online applications: JPKI signatures and 法人番号 lookup (issue 6) ------------------------

    jpki_signing_app: str = "sandbox"
    """How residents sign applications that need a JPKI signature: ``sandbox`` (a test signing
    page on this server with a generated test certificate; demo only) or ``digital_auth_app``
    (デジタル認証アプリ サービスAPI; needs the ``jpki_app_*`` settings)."""

    jpki_trust_anchors: list[Path] = Field(default_factory=list)
    """Files or folders of trusted CA certificates (PEM or DER) for 署名用電子証明書: the J-LIS
    署名用認証局 certificates (JSON list in the environment). The sandbox adds its own test CA."""

    jpki_revocation: Literal["crl", "ocsp", "none"] = "crl"
    """How the revocation of a signer certificate is checked: ``crl`` (the files in
    ``jpki_crl_files``), ``ocsp`` (``jpki_ocsp_url`` or the certificate's OCSP address) or ``none``
    (only for trials; a revoked certificate would pass)."""

    jpki_crl_files: list[Path] = Field(default_factory=list)
    """Files or folders of CRLs (DER or PEM) for ``jpki_revocation=crl``, kept current by the
    operator (J-LIS publishes them to 署名検証者). A missing or stale CRL refuses the signature."""

    jpki_ocsp_url: str = ""
    """OCSP responder for ``jpki_revocation=ocsp`` (empty: the address in the certificate)."""

    jpki_ocsp_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long to wait for the OCSP responder before telling the resident to try again."""

    jpki_app_base_url: str = ""
    """``digital_auth_app``: base URL of the デジタル認証アプリ サービスAPI (given at registration)."""

    jpki_app_client_id: str = ""
    """``digital_auth_app``: client id of the municipality's service registration."""

    jpki_app_client_secret: SecretStr | None = None
    """``digital_auth_app``: client secret of the registration (``client_secret_basic``); not
    needed when ``jpki_app_client_key_file`` is set."""

    jpki_app_client_key_file: Path | None = None
    """``digital_auth_app``: private key (PEM, RSA or EC) the client authenticates with at the token
    endpoint (``private_key_jwt``, as the public guides show); its public key is registered with
    the Digital Agency. Preferred over ``jpki_app_client_secret`` when both are set."""

    jpki_app_jwe_key_file: Path | None = None
    """``digital_auth_app``: private key (PEM, RSA or EC) the signing results are encrypted to (JWE)."""

    jpki_app_issuer: str = ""
    """``digital_auth_app``: expected ``iss`` of the ID token (empty: ``<base URL>/api/realms/main``)."""

    jpki_app_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """``digital_auth_app``: how long to wait for each call to the サービスAPI before telling the
    resident to try again."""

    jpki_app_transaction_minutes: int = Field(default=10, ge=1, le=60)
    """How long a started signing stays open: a resident coming back later signs again."""

    corporate_lookup: str = "sandbox"
    """Where 法人番号 fields look up the name and address: ``nta`` (国税庁 法人番号システム Web-API;
    needs ``nta_application_id``) or ``sandbox`` (a few fictitious corporations; demo)."""

    nta_application_id: SecretStr | None = None
    """``nta``: the アプリケーションID issued by 国税庁 for the Web-API (applied for by post)."""

    nta_api_url: str = "https://api.houjin-bangou.nta.go.jp/4"
    """``nta``: base URL of the Web-API (version 4)."""

    nta_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """``nta``: how long to wait for the Web-API before telling the resident to type the name."""

    corporate_lookup_per_minute: int = Field(default=30, ge=1, le=10_000)
    """法人番号 lookups one client (IP address) may make per minute, through the JSON route and the
    form's 検索 button together; more are refused with a Japanese message (HTTP 429)."""

    corporate_lookup_cache_seconds: int = Field(default=300, ge=0, le=86_400)
    """How long an answer of the 法人番号 lookup (found or not found) is reused for the same number
    (0: ask the service every time). Errors of the service are never reused."""

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'madoguchi.db'}"
        elif self.database_url.startswith(("postgresql://", "postgres://")):
            self.database_url = "postgresql+psycopg://" + self.database_url.split("://", 1)[1]
        elif self.database_url.startswith("sqlite:///"):
            self.database_url = "sqlite+aiosqlite:///" + self.database_url.split(":///", 1)[1]
        if self.key_file is None:
            self.key_file = self.data_dir / "keys.json"
        return self

    @model_validator(mode="after")
    def _check_retention(self) -> Settings:
        for lg_code, years in self.retention_years_by_municipality.items():
            if years < 1:
                raise ValueError(f"retention for {lg_code} must be at least 1 year (legal minimum)")
        return self

    def retention_for(self, lg_code: str) -> int:
        """Retention in years for ``lg_code``."""
        return self.retention_years_by_municipality.get(lg_code, self.retention_years)

    @property
    def blob_path(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def backup_path(self) -> Path:
        return self.backup_dir if self.backup_dir is not None else self.data_dir / "backups"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def key_path(self) -> Path:
        assert self.key_file is not None
        return self.key_file


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings read from the environment, built once per process."""
    return Settings()
