"""Every run setting in one typed object, read once from the environment.

Telemetry of every component is switched off here, before any of them is imported,
because public-sector networks block it and a load must not stall on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from flows.sources.limits import FileLimits, byte_count

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Switched off for dbt, Prefect, Great Expectations and Streamlit alike; a user's own value wins.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}
for _name, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_name, _value)


def _default_home() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "bluelight"


@dataclass(frozen=True)
class Settings:
    """Where Bluelight keeps its data and how a run behaves."""

    home: Path = field(default_factory=_default_home)
    """Data directory (`BLUELIGHT_HOME`); default `$XDG_DATA_HOME/bluelight`, ~/.local/share/..."""

    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    """The dbt project that turns raw rows into marts."""

    dbt_threads: int = 1
    """dbt threads; one, because several threads on one DuckDB file have had transaction errors."""

    duckdb_memory_limit: str = "4GB"
    """Memory DuckDB may use in a run's heavy stages (ingest, the quality gate, dbt)
    (`BLUELIGHT_DUCKDB_MEMORY_LIMIT`); past it DuckDB spills to disk. DuckDB's own default is
    80% of the machine's memory, which let the stages and Python together pass 8 GB."""

    demo_seed: int = 2014
    """Seed of the demo data generator: the same seed writes the same files byte for byte."""

    demo_scale: float = 1.0
    """Share of the demo county's incident volume to generate (1.0 is the full demo county)."""

    dashboard_port: int = 8501
    """Port `bluelight dashboard` serves on (`BLUELIGHT_DASHBOARD_PORT`)."""

    dashboard_url: str | None = None
    """The address users open the dashboard at, as registered with the identity provider
    (`BLUELIGHT_DASHBOARD_URL`, e.g. `https://bluelight.example.org`); after signing in they are
    sent back to it plus `/oauth2callback`. Default `http://HOST:PORT` of `bluelight dashboard`."""

    tls_cert_file: Path | None = None
    """A certificate (PEM, the chain after it) for the dashboard to serve HTTPS itself
    (`BLUELIGHT_TLS_CERT`, with `BLUELIGHT_TLS_KEY`): Streamlit's own `server.sslCertFile`.
    Without them it serves plain HTTP, for loopback or behind a reverse proxy that serves
    HTTPS (docs/security.md)."""

    tls_key_file: Path | None = None
    """The certificate's private key (`BLUELIGHT_TLS_KEY`): Streamlit's `server.sslKeyFile`."""

    oidc_issuer: str | None = None
    """The OpenID Connect provider that signs users in (`BLUELIGHT_OIDC_ISSUER`, e.g.
    `https://login.microsoftonline.com/<tenant id>/v2.0`); its
    `/.well-known/openid-configuration` tells Streamlit the rest."""

    oidc_client_id: str | None = None
    """The dashboard's client id at that provider (`BLUELIGHT_OIDC_CLIENT_ID`)."""

    oidc_client_secret: str | None = field(default=None, repr=False)
    """Its client secret (`BLUELIGHT_OIDC_CLIENT_SECRET`)."""

    cookie_secret: str | None = field(default=None, repr=False)
    """Key that signs the sign-in cookie (`BLUELIGHT_COOKIE_SECRET`); default: one made at random
    the first time and kept in `signin/cookie_secret` (flows/security/signin.py)."""

    secrets_file: Path | None = None
    """A TOML file holding any of the secret settings by their variable names
    (`BLUELIGHT_SECRETS_FILE`; keys SECRET_VARIABLES below), so they stay out of the environment
    and the repository; a variable set in the environment wins over the file."""

    session_hours: float = 8.0
    """How long a sign-in lasts before the dashboard asks again (`BLUELIGHT_SESSION_HOURS`):
    Streamlit does not check the identity token's expiry."""

    access_log_path: Path | None = None
    """The access log (`BLUELIGHT_ACCESS_LOG`): every sign-in, refusal, page view, export and
    upload, hash-chained (flows/security/access_log.py); default `access/access.jsonl` in the
    data directory, outside the published warehouse, which each night replaces."""

    access_file_path: Path | None = None
    """Who may see what (`BLUELIGHT_ACCESS_FILE`): a TOML file granting roles and organisations
    by an identity-token claim or by e-mail (flows/security/roles.py); default `access.toml` in
    the data directory. Read at each page, so a change needs no restart."""

    keep_versions_days: int = 90
    """Days each published warehouse is kept in `warehouse/versions/`
    (`BLUELIGHT_KEEP_VERSIONS_DAYS`); the newest older one stays too: it was in force when the
    kept window opens."""

    published_urls: dict[str, str] = field(default_factory=dict)
    """Publisher web addresses to fetch each night, by source name (`BLUELIGHT_PUBLISHED_URLS`,
    `source=url` pairs separated by spaces); each download lands in `inbox/<source>/`."""

    schedule_cron: str = "0 2 * * *"
    """When `bluelight serve` runs the nightly flow (`BLUELIGHT_SCHEDULE_CRON`, cron syntax)."""

    schedule_timezone: str = "Europe/London"
    """The schedule's clock (`BLUELIGHT_SCHEDULE_TZ`, IANA name): 02:00 stays 02:00 local time
    across the clock changes."""

    notify_webhook: str | None = None
    """Address a failed or partly failed run is posted to as JSON `{"text": ...}`, which Teams and
    Slack incoming webhooks accept (`BLUELIGHT_NOTIFY_WEBHOOK`)."""

    smtp_host: str | None = None
    """Mail server a failed or partly failed run is emailed through (`BLUELIGHT_SMTP_HOST`)."""

    smtp_port: int = 25
    """Its port (`BLUELIGHT_SMTP_PORT`)."""

    smtp_from: str = "bluelight@localhost"
    """Sender of the email (`BLUELIGHT_SMTP_FROM`)."""

    smtp_to: tuple[str, ...] = ()
    """Recipients, separated by commas or spaces (`BLUELIGHT_SMTP_TO`); no recipients, no email."""

    smtp_user: str | None = None
    """Login, if the server wants one (`BLUELIGHT_SMTP_USER`, with `BLUELIGHT_SMTP_PASSWORD`)."""

    smtp_password: str | None = None
    """Password for `smtp_user` (`BLUELIGHT_SMTP_PASSWORD`)."""

    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before logging in (`BLUELIGHT_SMTP_STARTTLS`)."""

    run_lock_wait_seconds: int = 1800
    """How long a night waits for the data directory while a backup or another run holds it
    (`BLUELIGHT_RUN_LOCK_WAIT_SECONDS`) before it fails, recorded and reported like any failed
    night: a backup takes seconds to minutes, and a night falling due during one should still
    load."""

    free_space_margin_mb: int = 100
    """Free space, in MB, a night leaves untouched beyond what it expects to write
    (`BLUELIGHT_FREE_SPACE_MARGIN_MB`); a night that would need more refuses before it starts
    (flows/warehouse/room.py)."""

    prefect_startup_seconds: tuple[int, ...] = (60, 180)
    """How long `bluelight run` waits for Prefect's temporary server to answer, for each attempt
    (`BLUELIGHT_PREFECT_STARTUP_SECONDS`, seconds separated by commas or spaces). Prefect's own
    20 s is missed on a busy 2-core machine; a start that misses its allowance is tried again
    with the next one before the night is failed."""

    file_memory_limit: str = "2GB"
    """Memory one inbox file's load may take (`BLUELIGHT_FILE_MEMORY_LIMIT`, as DuckDB writes
    sizes): DuckDB's memory limit while the file is staged and appended, and the most a Python
    reader (a workbook, or a CSV DuckDB cannot read itself) may need, judged from the file
    before it is read (flows/sources/limits.py). A file over it is refused, not the night."""

    unpacked_ratio: int = 100
    """The most an XLSX or ODS may unpack to, as a multiple of its size on disk
    (`BLUELIGHT_UNPACKED_RATIO`): a spreadsheet's XML packs 5 to 20 times smaller, and a file
    that unpacks to far more than that is a decompression bomb."""

    csv_line_limit: int = 1_048_576
    """The longest line a CSV may have, in bytes (`BLUELIGHT_CSV_LINE_LIMIT`); a row of an
    agency extract is a few hundred bytes."""

    backend: str = "file"
    """Which backend holds the warehouse (`BLUELIGHT_BACKEND`): `file`, one DuckDB file (the
    default, and the demo's), or `ducklake`, a DuckLake of Parquet files with a PostgreSQL
    catalog that several machines share (docs/scale-out.md)."""

    lake_catalog: str | None = field(default=None, repr=False)
    """The lake's catalog, a PostgreSQL database, as a libpq connection string
    (`BLUELIGHT_LAKE_CATALOG`, e.g. `dbname=bluelight host=catalog.example.org user=loader`);
    needed when the backend is `ducklake`. Its password belongs in the user's `~/.pgpass` (or the
    file `PGPASSFILE` names), not in the string: DuckDB's errors repeat the string. A string that
    must hold one is kept in the secrets file, as a secret setting."""

    lake_data_path: Path | None = None
    """The folder the lake's Parquet files are under (`BLUELIGHT_LAKE_DATA_PATH`): local, or a
    network share mounted at the same path on every machine that writes. Needed to make the
    lake; after that the catalog records it."""

    def __post_init__(self) -> None:
        _backend(self.backend)
        if self.backend == "ducklake" and not self.lake_catalog:
            raise SettingsError(
                "BLUELIGHT_BACKEND=ducklake needs BLUELIGHT_LAKE_CATALOG, the lake catalog's "
                "PostgreSQL connection string (docs/scale-out.md)"
            )

    @property
    def file_limits(self) -> FileLimits:
        """The limits each inbox file's load keeps (flows/sources/limits.py)."""
        return FileLimits(self.file_memory_limit, self.unpacked_ratio, self.csv_line_limit)

    @property
    def notifying(self) -> bool:
        """Whether any way of telling the operator is configured."""
        return bool(self.notify_webhook or (self.smtp_host and self.smtp_to))

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from `BLUELIGHT_*` environment variables (the secret ones also from the
        file `BLUELIGHT_SECRETS_FILE` names), defaults for the rest."""
        given = {**_secrets_file(os.environ.get("BLUELIGHT_SECRETS_FILE")), **os.environ}
        return cls(
            **{
                name: parse(given[variable])
                for variable, (name, parse) in ENVIRONMENT.items()
                if given.get(variable)
            }
        )

    def to_dbt_env(self, build_db: Path | None = None, tests_from_load: str = "") -> dict[str, str]:
        """The environment variables dbt reads: dbt_project/profiles.yml the warehouse it builds
        (`BLUELIGHT_BUILD_DB`: the build copy, or `build_db`), its threads and DuckDB's memory
        limit; macros/get_where_subquery.sql the first load the incremental models' tests look
        at (`BLUELIGHT_TESTS_FROM_LOAD`, empty for every row)."""
        return {
            "BLUELIGHT_BUILD_DB": str(build_db or self.build_db),
            "BLUELIGHT_DBT_THREADS": str(self.dbt_threads),
            "BLUELIGHT_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "BLUELIGHT_TESTS_FROM_LOAD": tests_from_load,
        }

    # The layout of the data directory: each path below `home`.
    inbox = property(lambda self: self.home / "inbox")
    archive = property(lambda self: self.home / "archive")
    rejected = property(lambda self: self.home / "rejected")
    build_dir = property(lambda self: self.home / "build")
    warehouse_dir = property(lambda self: self.home / "warehouse")
    quality_dir = property(lambda self: self.home / "quality")
    build_db = property(lambda self: self.build_dir / "bluelight.duckdb")
    published_db = property(lambda self: self.warehouse_dir / "bluelight.duckdb")
    # Every published warehouse kept, as `bluelight-<run id>.duckdb` (flows/warehouse/publish.py).
    versions_dir = property(lambda self: self.warehouse_dir / "versions")
    # Append-only JSON lines, a line per run: outlives failed runs; replayed into audit.
    run_log = property(lambda self: self.home / "runs.jsonl")
    # Append-only, hash-chained JSON lines, an entry per access (flows/security/access_log.py).
    access_log = property(
        lambda self: self.access_log_path or self.home / "access" / "access.jsonl"
    )
    access_file = property(lambda self: self.access_file_path or self.home / "access.toml")
    # What sign-in keeps, owner-only: the cookie secret and Streamlit's [auth] secrets.
    signin_dir = property(lambda self: self.home / "signin")

    def ensure_dirs(self) -> None:
        for path in (
            self.inbox,
            self.archive,
            self.rejected,
            self.build_dir,
            self.warehouse_dir,
            self.versions_dir,
            self.quality_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


class SettingsError(ValueError):
    """A setting that cannot be read: its message names the variable or file and what to fix."""


# The settings a secrets file may hold, by the variable that also gives each.
SECRET_VARIABLES = (
    "BLUELIGHT_OIDC_ISSUER",
    "BLUELIGHT_OIDC_CLIENT_ID",
    "BLUELIGHT_OIDC_CLIENT_SECRET",
    "BLUELIGHT_COOKIE_SECRET",
    "BLUELIGHT_SMTP_PASSWORD",
    "BLUELIGHT_LAKE_CATALOG",
)


def _secrets_file(path: str | None) -> dict[str, str]:
    """The variables a secrets file gives: top-level TOML keys of SECRET_VARIABLES, text values."""
    import tomllib

    if not path:
        return {}
    try:
        values = tomllib.loads(Path(path).expanduser().read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"BLUELIGHT_SECRETS_FILE={path} cannot be read: {error}") from error
    unknown = sorted(set(values) - set(SECRET_VARIABLES))
    if unknown:
        raise SettingsError(
            f"BLUELIGHT_SECRETS_FILE={path} holds {', '.join(unknown)}: it may hold only "
            f"{', '.join(SECRET_VARIABLES)}"
        )
    not_text = sorted(k for k, v in values.items() if not isinstance(v, str))
    if not_text:
        raise SettingsError(f"BLUELIGHT_SECRETS_FILE={path}: {', '.join(not_text)} must be text")
    return values


def _urls(text: str) -> dict[str, str]:
    """`source=url` pairs separated by spaces."""
    return dict(item.split("=", 1) for item in text.split())


def _size(text: str) -> str:
    """A size as DuckDB writes one ("2GB"), refused here rather than mid-run if it is not."""
    byte_count(text)
    return text


# The warehouse's backends (flows/warehouse/lake.py is the second).
BACKENDS = ("file", "ducklake")


def _backend(text: str) -> None:
    if text not in BACKENDS:
        raise SettingsError(
            f"BLUELIGHT_BACKEND={text}: it must be {' or '.join(BACKENDS)} (default file)"
        )


# Each environment variable: the setting it gives, and how its text becomes the value.
ENVIRONMENT = {
    "BLUELIGHT_HOME": ("home", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_DBT_THREADS": ("dbt_threads", int),
    "BLUELIGHT_DUCKDB_MEMORY_LIMIT": ("duckdb_memory_limit", str),
    "BLUELIGHT_DEMO_SEED": ("demo_seed", int),
    "BLUELIGHT_DEMO_SCALE": ("demo_scale", float),
    "BLUELIGHT_DASHBOARD_PORT": ("dashboard_port", int),
    "BLUELIGHT_KEEP_VERSIONS_DAYS": ("keep_versions_days", int),
    "BLUELIGHT_PUBLISHED_URLS": ("published_urls", _urls),
    "BLUELIGHT_SCHEDULE_CRON": ("schedule_cron", str),
    "BLUELIGHT_SCHEDULE_TZ": ("schedule_timezone", str),
    "BLUELIGHT_NOTIFY_WEBHOOK": ("notify_webhook", str),
    "BLUELIGHT_SMTP_HOST": ("smtp_host", str),
    "BLUELIGHT_SMTP_PORT": ("smtp_port", int),
    "BLUELIGHT_SMTP_FROM": ("smtp_from", str),
    "BLUELIGHT_SMTP_TO": ("smtp_to", lambda v: tuple(v.replace(",", " ").split())),
    "BLUELIGHT_SMTP_USER": ("smtp_user", str),
    "BLUELIGHT_SMTP_PASSWORD": ("smtp_password", str),
    "BLUELIGHT_SMTP_STARTTLS": ("smtp_starttls", lambda v: v.lower() in ("1", "true", "yes")),
    "BLUELIGHT_FREE_SPACE_MARGIN_MB": ("free_space_margin_mb", int),
    "BLUELIGHT_RUN_LOCK_WAIT_SECONDS": ("run_lock_wait_seconds", int),
    "BLUELIGHT_PREFECT_STARTUP_SECONDS": (
        "prefect_startup_seconds",
        lambda v: tuple(int(s) for s in v.replace(",", " ").split()),
    ),
    "BLUELIGHT_FILE_MEMORY_LIMIT": ("file_memory_limit", _size),
    "BLUELIGHT_UNPACKED_RATIO": ("unpacked_ratio", int),
    "BLUELIGHT_CSV_LINE_LIMIT": ("csv_line_limit", byte_count),
    "BLUELIGHT_DASHBOARD_URL": ("dashboard_url", str),
    "BLUELIGHT_TLS_CERT": ("tls_cert_file", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_TLS_KEY": ("tls_key_file", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_OIDC_ISSUER": ("oidc_issuer", str),
    "BLUELIGHT_OIDC_CLIENT_ID": ("oidc_client_id", str),
    "BLUELIGHT_OIDC_CLIENT_SECRET": ("oidc_client_secret", str),
    "BLUELIGHT_COOKIE_SECRET": ("cookie_secret", str),
    "BLUELIGHT_SECRETS_FILE": ("secrets_file", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_SESSION_HOURS": ("session_hours", float),
    "BLUELIGHT_ACCESS_LOG": ("access_log_path", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_ACCESS_FILE": ("access_file_path", lambda v: Path(v).expanduser().resolve()),
    "BLUELIGHT_BACKEND": ("backend", str),
    "BLUELIGHT_LAKE_CATALOG": ("lake_catalog", str),
    "BLUELIGHT_LAKE_DATA_PATH": ("lake_data_path", lambda v: Path(v).expanduser().resolve()),
}
