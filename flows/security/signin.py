"""Sign-in: whether it is configured and what is missing, the rule that the dashboard is served
beyond this machine only with sign-in, and the `[auth]` secrets Streamlit's `st.login` reads,
written from the settings into the data directory for `bluelight dashboard` to pass on.

Streamlit and Authlib do the OpenID Connect work; this module only says what they are given.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import secrets
import tempfile
from pathlib import Path

from flows.settings import Settings

LOOPBACK = "127.0.0.1"
# Where the provider sends a user back to after signing in: Streamlit's own route.
CALLBACK = "/oauth2callback"
METADATA = "/.well-known/openid-configuration"
# Each setting sign-in needs, by the variable (or secrets-file key) that gives it.
REQUIRED = {
    "oidc_issuer": "BLUELIGHT_OIDC_ISSUER",
    "oidc_client_id": "BLUELIGHT_OIDC_CLIENT_ID",
    "oidc_client_secret": "BLUELIGHT_OIDC_CLIENT_SECRET",
}


def missing(settings: Settings) -> list[str]:
    """The variables sign-in still needs (empty when it is configured)."""
    return [variable for name, variable in REQUIRED.items() if not getattr(settings, name)]


def configured(settings: Settings) -> bool:
    """Whether sign-in has its issuer, client id and client secret."""
    return not missing(settings)


REQUIRED_FLAG = "BLUELIGHT_SIGNIN_REQUIRED"  # set by `bluelight dashboard` when it starts


def required(settings: Settings) -> bool:
    """Whether the dashboard asks for sign-in: sign-in configured now, or when `bluelight
    dashboard` started (it sets REQUIRED_FLAG), so a secrets file that reads empty for a moment
    (being rewritten) never opens the dashboard to everyone."""
    return os.environ.get(REQUIRED_FLAG) == "1" or configured(settings)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only: `localhost`, 127.0.0.0/8 or ::1. A name is never
    looked up: any other name counts as beyond loopback."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether `host` means every address of the machine (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def serving_refusal(settings: Settings, host: str) -> str | None:
    """Why the dashboard may not be served on `host`, or None when it may: on loopback always;
    beyond it only with sign-in configured, an address to send users back to, and Authlib, which
    `st.login` needs (installation_refusal). With sign-in configured every page asks for it
    (dashboard/app.py)."""
    if tls_refusal(settings):
        return f"Not serving on {host}: {tls_refusal(settings)}"
    if is_loopback(host):
        return None
    return settings_refusal(settings, host) or installation_refusal(host)


def settings_refusal(settings: Settings, host: str) -> str | None:
    """What the settings lack for serving on `host` beyond loopback, or None."""
    if not configured(settings):
        names = missing(settings)
        listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        return (
            f"Not serving on {host}: beyond this machine the dashboard is served only with "
            f"sign-in. Set {listed} (in the environment, or as keys of the TOML file "
            "BLUELIGHT_SECRETS_FILE names; docs/security.md says how to register the "
            f"dashboard with your identity provider), or serve on {LOOPBACK}."
        )
    if redirect_uri(settings, host) is None:
        return (
            f"Not serving on {host}: sign-in sends users back to the address they open the "
            "dashboard at, and on every address of the machine it cannot tell which: set "
            "BLUELIGHT_DASHBOARD_URL (e.g. https://bluelight.example.org)."
        )
    return None


def installation_refusal(host: str) -> str | None:
    """What this installation lacks to enforce sign-in beyond loopback, or None."""
    if importlib.util.find_spec("authlib") is None:
        return (
            f"Not serving on {host}: sign-in needs Authlib, which is not installed "
            "(docs/security.md)."
        )
    return None


def redirect_uri(settings: Settings, host: str) -> str | None:
    """Where the provider sends a user back to: BLUELIGHT_DASHBOARD_URL, else the host and port
    served on; None on a wildcard host without BLUELIGHT_DASHBOARD_URL."""
    if settings.dashboard_url:
        return settings.dashboard_url.rstrip("/") + CALLBACK
    if is_wildcard(host):
        return None
    return f"{dashboard_address(host, settings.dashboard_port, tls(settings))}{CALLBACK}"


def dashboard_address(host: str, port: int, https: bool = False) -> str:
    """`http://host:port` (`https` when the dashboard serves TLS), an IPv6 address in
    brackets."""
    bare = host.strip("[]")
    scheme = "https" if https else "http"
    return f"{scheme}://[{bare}]:{port}" if ":" in bare else f"{scheme}://{bare}:{port}"


def tls(settings: Settings) -> bool:
    """Whether the dashboard serves HTTPS itself: a certificate and its key are both set."""
    return bool(settings.tls_cert_file and settings.tls_key_file)


def tls_refusal(settings: Settings) -> str | None:
    """What is wrong with the TLS settings, or None: both or neither, and files that exist."""
    given = [settings.tls_cert_file, settings.tls_key_file]
    if any(given) and not all(given):
        return "Set both BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY, or neither."
    missing_files = [str(p) for p in given if p is not None and not p.is_file()]
    if missing_files:
        return f"No such certificate or key file: {', '.join(missing_files)}."
    return None


def metadata_url(issuer: str) -> str:
    """The issuer's OpenID configuration (the issuer itself if it is already that address)."""
    issuer = issuer.rstrip("/")
    return issuer if issuer.endswith(METADATA) else issuer + METADATA


def auth_section(settings: Settings, host: str) -> dict[str, str]:
    """Streamlit's `[auth]` secrets for serving on `host` (sign-in configured)."""
    uri = redirect_uri(settings, host)
    if not configured(settings) or uri is None:
        raise ValueError(settings_refusal(settings, host) or "sign-in is not configured")
    return {
        "redirect_uri": uri,
        "cookie_secret": cookie_secret(settings),
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret,
        "server_metadata_url": metadata_url(settings.oidc_issuer),
    }


def write_streamlit_secrets(settings: Settings, host: str) -> Path:
    """Write the `[auth]` section to `signin/secrets.toml` (owner-only) and return its path,
    for Streamlit's `secrets.files`."""
    section = auth_section(settings, host)
    lines = ["[auth]", *(f"{key} = {json.dumps(value)}" for key, value in section.items())]
    path = settings.signin_dir / "secrets.toml"
    _write_private(path, "\n".join(lines) + "\n")
    return path


def cookie_secret(settings: Settings) -> str:
    """BLUELIGHT_COOKIE_SECRET, else the one made at random the first time and kept (owner-only)
    in `signin/cookie_secret`, so sign-ins outlive a restart of the dashboard."""
    if settings.cookie_secret:
        return settings.cookie_secret
    path = settings.signin_dir / "cookie_secret"
    if not path.exists():
        draft = _draft(path, secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)  # made once: a second maker finds it there and keeps it
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, readable and writable by its owner only."""
    os.replace(_draft(path, text), path)


def _draft(path: Path, text: str) -> Path:
    """`text` in a new owner-only file beside `path`, on disk."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".draft")  # 0600
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return Path(draft)
