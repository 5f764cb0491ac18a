"""`bluelight dashboard --host`: loopback always; beyond it only with sign-in configured, else
exit status 2 naming what to set. The sign-in settings (environment or secrets file), and the
`[auth]` secrets written for Streamlit's st.login, which Streamlit really reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from conftest import CHROMIUM_FLAGS, bluelight, chromium_or_skip, settings_for
from served import forwarding_proxy, free_port

from flows.cli import running
from flows.security import signin
from flows.settings import SECRET_VARIABLES, Settings, SettingsError

SIGNIN_VARIABLES = (*signin.REQUIRED.values(), "BLUELIGHT_COOKIE_SECRET", "BLUELIGHT_SECRETS_FILE")
ISSUER = "https://login.example.org/tenant-1/v2.0"


@pytest.fixture(autouse=True)
def no_signin_in_the_environment(monkeypatch):
    for variable in (*SIGNIN_VARIABLES, "BLUELIGHT_DASHBOARD_URL", "BLUELIGHT_DASHBOARD_PORT"):
        monkeypatch.delenv(variable, raising=False)


def with_signin(home: Path, **more) -> Settings:
    given = {
        "oidc_issuer": ISSUER,
        "oidc_client_id": "bluelight-dashboard",
        "oidc_client_secret": "s3cret",
    }
    return Settings(home=home, **(given | more))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "bluelight.example.org"])
def test_beyond_loopback_without_signin_exits_2_naming_the_settings(tmp_path, capsys, host):
    assert bluelight(tmp_path, "dashboard", "--host", host) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"Not serving on {host}: ")
    for variable in signin.REQUIRED.values():
        assert variable in error
    assert "BLUELIGHT_SECRETS_FILE" in error and "127.0.0.1" in error


def test_the_error_names_only_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BLUELIGHT_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("BLUELIGHT_OIDC_CLIENT_ID", "bluelight-dashboard")
    assert bluelight(tmp_path, "dashboard", "--host", "0.0.0.0") == 2
    error = capsys.readouterr().err
    assert "Set BLUELIGHT_OIDC_CLIENT_SECRET (" in error
    assert "BLUELIGHT_OIDC_ISSUER" not in error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2", "LOCALHOST"])
def test_loopback_is_allowed_without_signin(tmp_path, capsys, host):
    assert signin.serving_refusal(Settings(home=tmp_path), host) is None
    # Past the host rule, the command stops only because nothing is published here.
    assert bluelight(tmp_path, "dashboard", "--host", host) == 1
    assert "No published warehouse" in capsys.readouterr().err


def test_signin_configured_allows_an_address_beyond_loopback(tmp_path):
    settings = with_signin(tmp_path)
    assert signin.configured(settings) and signin.missing(settings) == []
    assert signin.settings_refusal(settings, "192.168.1.20") is None
    assert signin.settings_refusal(settings, "bluelight.example.org") is None
    # Every address of the machine needs the address users open, to send them back to.
    assert "BLUELIGHT_DASHBOARD_URL" in signin.settings_refusal(settings, "0.0.0.0")
    dashboard_url = "https://bluelight.example.org"
    assert signin.settings_refusal(with_signin(tmp_path, dashboard_url=dashboard_url), "::") is None
    # Authlib is installed with Bluelight (streamlit[auth]): nothing else stops it.
    assert signin.installation_refusal("192.168.1.20") is None
    assert signin.serving_refusal(settings, "192.168.1.20") is None


@pytest.mark.parametrize(
    ("host", "dashboard_url", "redirect"),
    [
        ("192.168.1.20", None, "http://192.168.1.20:8601/oauth2callback"),
        ("::1", None, "http://[::1]:8601/oauth2callback"),
        (
            "0.0.0.0",
            "https://bluelight.example.org/",
            "https://bluelight.example.org/oauth2callback",
        ),
    ],
)
def test_the_auth_secrets_written_for_streamlit(tmp_path, host, dashboard_url, redirect):
    settings = with_signin(tmp_path, dashboard_port=8601, dashboard_url=dashboard_url)
    path = signin.write_streamlit_secrets(settings, host)
    assert path == tmp_path / "signin" / "secrets.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    kept = tmp_path / "signin" / "cookie_secret"
    assert kept.stat().st_mode & 0o777 == 0o600
    cookie = kept.read_text().strip()
    assert len(cookie) == 64 and int(cookie, 16) >= 0
    assert tomllib.loads(path.read_text()) == {
        "auth": {
            "redirect_uri": redirect,
            "cookie_secret": cookie,
            "client_id": "bluelight-dashboard",
            "client_secret": "s3cret",
            "server_metadata_url": ISSUER + "/.well-known/openid-configuration",
        }
    }
    # Written again (the next start), it keeps the cookie secret: sign-ins outlive a restart.
    signin.write_streamlit_secrets(settings, host)
    assert tomllib.loads(path.read_text())["auth"]["cookie_secret"] == cookie
    assert sorted(p.name for p in path.parent.iterdir()) == ["cookie_secret", "secrets.toml"]


def test_a_cookie_secret_setting_wins_and_quotes_survive(tmp_path):
    settings = with_signin(tmp_path, cookie_secret='a "quoted" \\ secret')
    auth = tomllib.loads(signin.write_streamlit_secrets(settings, "127.0.0.1").read_text())["auth"]
    assert auth["cookie_secret"] == 'a "quoted" \\ secret'
    assert not (tmp_path / "signin" / "cookie_secret").exists()


def test_the_metadata_address_from_the_issuer():
    wanted = ISSUER + "/.well-known/openid-configuration"
    assert signin.metadata_url(ISSUER) == wanted
    assert signin.metadata_url(ISSUER + "/") == wanted
    assert signin.metadata_url(wanted) == wanted


def test_streamlit_gets_the_secrets_only_with_signin(tmp_path):
    without = running.dashboard_command(Settings(home=tmp_path), "127.0.0.1")
    assert "--secrets.files" not in without
    assert not (tmp_path / "signin").exists()
    command = running.dashboard_command(with_signin(tmp_path), "127.0.0.1")
    at = command.index("--secrets.files")
    assert command[at + 1] == str(tmp_path / "signin" / "secrets.toml")
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def test_signin_settings_from_a_secrets_file_under_the_environment(tmp_path, monkeypatch):
    secrets_file = tmp_path / "bluelight-secrets.toml"
    secrets_file.write_text(
        f'BLUELIGHT_OIDC_ISSUER = "{ISSUER}"\n'
        'BLUELIGHT_OIDC_CLIENT_ID = "from-the-file"\n'
        'BLUELIGHT_OIDC_CLIENT_SECRET = "file-secret"\n'
    )
    monkeypatch.setenv("BLUELIGHT_SECRETS_FILE", str(secrets_file))
    monkeypatch.setenv("BLUELIGHT_OIDC_CLIENT_ID", "from-the-environment")
    settings = Settings.from_env()
    assert (settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret) == (
        ISSUER,
        "from-the-environment",
        "file-secret",
    )
    assert settings.secrets_file == secrets_file
    assert settings.session_hours == 8
    assert "file-secret" not in repr(settings)


def test_a_secrets_file_holding_anything_else_is_refused(tmp_path, monkeypatch, capsys):
    secrets_file = tmp_path / "bluelight-secrets.toml"
    secrets_file.write_text('BLUELIGHT_HOME = "/elsewhere"\nBLUELIGHT_OIDC_CLIENT_SECRET = 1\n')
    monkeypatch.setenv("BLUELIGHT_SECRETS_FILE", str(secrets_file))
    with pytest.raises(SettingsError, match="holds BLUELIGHT_HOME: it may hold only"):
        Settings.from_env()
    assert bluelight(tmp_path, "dashboard") == 2
    assert "BLUELIGHT_HOME" in capsys.readouterr().err
    monkeypatch.setenv("BLUELIGHT_SECRETS_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env()
    assert set(signin.REQUIRED.values()) <= set(SECRET_VARIABLES)


def _answers(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"nothing answered at {url} within {seconds} s")


def test_the_dashboard_serves_on_localhost(tmp_path):
    import duckdb

    settings = settings_for(tmp_path)
    settings.warehouse_dir.mkdir(parents=True)
    duckdb.connect(str(settings.published_db)).close()
    port = free_port()
    env = {**os.environ, "BLUELIGHT_HOME": str(tmp_path), "BLUELIGHT_DASHBOARD_PORT": str(port)}
    with (tmp_path / "streamlit.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "dashboard", "--host", "localhost"],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            _answers(f"http://localhost:{port}")
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert f"Dashboard on http://localhost:{port}" in (tmp_path / "streamlit.log").read_text()


# A page that writes what Streamlit read as `[auth]` to the file AUTH_OUT names.
TINY_APP = """
import json, os
import streamlit as st

auth = st.secrets["auth"].to_dict()
open(os.environ["AUTH_OUT"], "w").write(json.dumps(auth))
st.write("read")
"""


def test_streamlit_reads_the_auth_secrets_it_is_given(tmp_path):
    """The command `bluelight dashboard` runs, serving a tiny page instead of the dashboard,
    with sign-in set to an issuer nothing answers at: the page reads the [auth] written."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    app, out = tmp_path / "tiny.py", tmp_path / "auth.json"
    app.write_text(TINY_APP)
    settings = with_signin(
        tmp_path / "home", dashboard_port=free_port(), oidc_issuer="http://127.0.0.1:9"
    )
    command = running.dashboard_command(settings, "127.0.0.1", app=app)
    url = f"http://127.0.0.1:{settings.dashboard_port}"
    with (tmp_path / "streamlit.log").open("w") as log:
        server = subprocess.Popen(
            command, env={**os.environ, "AUTH_OUT": str(out)}, cwd=tmp_path, stdout=log, stderr=log
        )
        try:
            _answers(url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                page = browser.new_page()
                page.goto(url)
                page.get_by_text("read").wait_for(timeout=30_000)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert json.loads(out.read_text()) == signin.auth_section(settings, "127.0.0.1")
    assert json.loads(out.read_text())["server_metadata_url"] == (
        "http://127.0.0.1:9/.well-known/openid-configuration"
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl for the test."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_the_dashboard_serves_https_with_a_certificate_and_its_key(tmp_path):
    import ssl

    import duckdb

    settings = settings_for(tmp_path)
    settings.warehouse_dir.mkdir(parents=True)
    duckdb.connect(str(settings.published_db)).close()
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "BLUELIGHT_HOME": str(tmp_path),
        "BLUELIGHT_DASHBOARD_PORT": str(port),
        "BLUELIGHT_TLS_CERT": str(cert),
        "BLUELIGHT_TLS_KEY": str(key),
    }
    trusted = ssl.create_default_context(cafile=str(cert))  # the test trusts its own certificate
    with (tmp_path / "streamlit.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "dashboard"], env=env, stdout=log, stderr=log
        )
        try:
            url = f"https://127.0.0.1:{port}/_stcore/health"
            deadline = time.monotonic() + 60
            while True:
                try:
                    answer = urllib.request.urlopen(url, timeout=2, context=trusted).read()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "nothing answered over HTTPS in 60 s"
                    time.sleep(0.5)
            with pytest.raises(OSError):  # plain HTTP is not served beside it
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert answer == b"ok"
    assert f"Dashboard on https://127.0.0.1:{port}" in (tmp_path / "streamlit.log").read_text()
    # Sign-in sends users back to the HTTPS address.
    signed = with_signin(tmp_path, tls_cert_file=cert, tls_key_file=key, dashboard_port=port)
    assert signin.redirect_uri(signed, "127.0.0.1") == f"https://127.0.0.1:{port}/oauth2callback"


def test_a_certificate_without_its_key_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BLUELIGHT_TLS_CERT", str(tmp_path / "cert.pem"))
    assert bluelight(tmp_path, "dashboard") == 2
    assert "Set both BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY" in capsys.readouterr().err


def test_without_signin_a_request_through_a_proxy_is_refused(tmp_path):
    """A dashboard without sign-in serves this machine only: a reverse proxy in front of it,
    which would bring the network in, is refused (the request's forwarding header shows it)."""
    import duckdb
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    settings = settings_for(tmp_path)
    settings.warehouse_dir.mkdir(parents=True)
    duckdb.connect(str(settings.published_db)).close()
    port = free_port()
    env = {**os.environ, "BLUELIGHT_HOME": str(tmp_path), "BLUELIGHT_DASHBOARD_PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "streamlit.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "dashboard"], env=env, stdout=log, stderr=log
        )
        try:
            _answers(url)
            with sync_playwright() as playwright, forwarding_proxy(port) as through_proxy:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                proxied = browser.new_page()
                proxied.goto(through_proxy)
                proxied.get_by_text("serves this machine only").wait_for(timeout=30_000)
                direct = browser.new_page()
                direct.goto(url)
                direct.get_by_text("No published warehouse").or_(
                    direct.get_by_test_id("stTopNav")
                ).first.wait_for(timeout=30_000)
                assert "serves this machine only" not in direct.inner_text("body")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
