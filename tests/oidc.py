"""A real OpenID Connect provider for the sign-in tests, and the steps a user takes with it.

`oidc_provider` serves oidc-provider-mock (a Flask app with Authlib underneath) as its own process
on a free loopback port; `signin_settings` registers the dashboard with it as a client, and
`environment` gives those settings as the variables `bluelight dashboard` reads; `served`
serves the dashboard (or a page of a test's own) with them. `sign_in` and `sign_out` go through
Streamlit's st.login and st.logout and the provider's forms in Playwright, as a user would.

The provider enforces what a real one does: only a registered client, with its secret, sent
back only to the exact redirect URI registered, a nonce in every request. Its pages link a
stylesheet on a CDN; `keep_on_machine` refuses every request a browser makes beyond loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from served import free_port, is_local

from flows.security import signin
from flows.settings import ENVIRONMENT, Settings

NETWATCH = Path(__file__).resolve().parent / "netwatch"
# The cookie Streamlit keeps the signed-in user in (signed with the cookie secret).
USER_COOKIE = "_streamlit_user"
# The settings sign-in against the provider needs, as `bluelight dashboard` reads them.
SIGNIN_SETTINGS = (
    "home",
    "dashboard_port",
    "dashboard_url",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
)


@dataclass(frozen=True)
class Provider:
    """A running provider: its issuer URL (what BLUELIGHT_OIDC_ISSUER names) and its log."""

    issuer: str
    log: Path

    def user(self, sub: str, **claims: object) -> None:
        """Register the account `sub` with the claims its ID token carries (email, groups...).
        An e-mail, like any standard claim, reaches the app only through its scope (Streamlit
        asks for openid, email and profile); any other claim is always in the token."""
        self._call("PUT", f"/users/{quote(sub, safe='')}", claims)

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """Register a client sent back only to `redirect_uri`: its client id and secret."""
        client = self._call("POST", "/oauth2/clients", {"redirect_uris": [redirect_uri]})
        return client["client_id"], client["client_secret"]

    def _call(self, method: str, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.issuer + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else {}


def watched_environment(log_dir: Path) -> dict[str, str]:
    """The environment of a subprocess the test starts: this one's, without any BLUELIGHT_
    setting of the developer's, with tests/netwatch noting in `log_dir/netwatch.log` every
    attempt it makes to reach beyond this machine (see `reached_beyond`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUELIGHT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETWATCH), env.get("PYTHONPATH")]))
    env["BLUELIGHT_NETWATCH_LOG"] = str(log_dir / "netwatch.log")
    return env


def reached_beyond(log_dir: Path) -> list[str]:
    """What the watched subprocesses tried to reach beyond this machine (empty: nothing)."""
    log = log_dir / "netwatch.log"
    return log.read_text().splitlines() if log.exists() else []


@contextmanager
def oidc_provider(log_dir: Path, token_max_age: int = 3600) -> Iterator[Provider]:
    """Serve oidc-provider-mock on a free loopback port until the block ends; yields it once
    its OpenID configuration answers. Its ID tokens last `token_max_age` seconds. Its output
    goes to `log_dir/oidc-provider.log`."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "oidc_provider_mock",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--require-registration",
        "--require-nonce",
        "--token-max-age",
        str(token_max_age),
    ]
    log_path = log_dir / "oidc-provider.log"
    env = watched_environment(log_dir) | {"NO_COLOR": "1"}
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            _wait_until_answers(signin.metadata_url(issuer), process, log_path)
            yield Provider(issuer=issuer, log=log_path)
        finally:
            _stop(process)


@contextmanager
def served(settings: Settings, log_dir: Path, app: Path | None = None) -> Iterator[str]:
    """Serve with `settings` on 127.0.0.1 until the block ends; yields the address once it
    answers. Without `app`, the command `bluelight dashboard` run with `environment(settings)`;
    with it, `app` by the very Streamlit command that command runs (its secrets written by
    flows.security.signin). Output in `log_dir/streamlit.log`."""
    env = watched_environment(log_dir) | environment(settings)
    if app is None:
        command = [sys.executable, "-m", "flows.cli", "dashboard"]
    else:
        from flows.cli.running import dashboard_command

        command = dashboard_command(settings, signin.LOOPBACK, app=app)
    url = signin.dashboard_address(signin.LOOPBACK, settings.dashboard_port)
    log_path = log_dir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=app.parent if app else None, stdout=log, stderr=log
        )
        try:
            _wait_until_answers(url + "/_stcore/health", process, log_path)
            yield url
        finally:
            _stop(process)


def signin_settings(provider: Provider, home: Path) -> Settings:
    """Settings that sign in against `provider`: a free port, the dashboard registered with
    the provider as a client sent back to that port's /oauth2callback, a home of its own."""
    port = free_port()
    url = signin.dashboard_address(signin.LOOPBACK, port)
    client_id, client_secret = provider.register(url + signin.CALLBACK)
    return Settings(
        home=home,
        dashboard_port=port,
        dashboard_url=url,
        oidc_issuer=provider.issuer,
        oidc_client_id=client_id,
        oidc_client_secret=client_secret,
    )


def environment(settings: Settings) -> dict[str, str]:
    """The BLUELIGHT_ variables that give `bluelight dashboard` the sign-in `settings` hold."""
    return {
        variable: str(getattr(settings, name))
        for variable, (name, _parse) in ENVIRONMENT.items()
        if name in SIGNIN_SETTINGS
    }


def keep_on_machine(context) -> list[str]:
    """Refuse every request of the Playwright browser `context` beyond this machine; returns
    the list the refused addresses are added to."""
    refused: list[str] = []

    def refuse(route) -> None:
        refused.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(lambda url: not is_local(url), refuse)
    return refused


def sign_in(page, sub: str, button: str = "Sign in", timeout: float = 30_000) -> None:
    """Sign in as the provider's account `sub` from the page's `button` (which calls
    st.login): through the provider's form, back to the app; returns once Streamlit has
    kept the sign-in and the app, run again, no longer offers the button."""
    origin = _origin(page.url)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url("**/oauth2/authorize?**", timeout=timeout)
    provider = _origin(page.url)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize", exact=True).click()
    # The provider sends the browser to the redirect_uri, which Streamlit sends on to "/".
    page.wait_for_url(
        lambda url: _origin(url) != provider and urlparse(url).path == "/", timeout=timeout
    )
    if _origin(page.url) != origin:
        raise AssertionError(
            f"signing in as {sub!r}: sent back to {_origin(page.url)}, not {origin} where "
            "sign-in started (the redirect_uri's address): Streamlit kept no sign-in"
        )
    if not any(c["name"] == USER_COOKIE for c in page.context.cookies(origin)):
        raise AssertionError(
            f"signing in as {sub!r}: the provider sent the browser back, but Streamlit kept "
            "no sign-in (its log says why: the token exchange, or the redirect_uri's origin)"
        )
    wait_for_app_run(page, timeout)
    if page.get_by_role("button", name=button, exact=True).count():
        raise AssertionError(f"signed in as {sub!r}, but the app still offers {button!r}")


def sign_out(page, button: str = "Sign out", timeout: float = 30_000) -> None:
    """Sign out from the page's `button` (which calls st.logout): Streamlit forgets the user
    and sends the browser to the provider's end-session form, which sends it back; returns
    once the app has run again."""
    origin = _origin(page.url)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url("**/oauth2/end_session?**", timeout=timeout)
    page.get_by_role("button", name="End session", exact=True).click()
    page.wait_for_url(origin + "/", timeout=timeout)
    if any(c["name"] == USER_COOKIE for c in page.context.cookies(origin)):
        raise AssertionError("signed out, but Streamlit's sign-in cookie is still there")
    wait_for_app_run(page, timeout)


def wait_for_app_run(page, timeout: float = 30_000) -> None:
    """Wait until the Streamlit page has run its script since it loaded, and is idle."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=timeout)


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _wait_until_answers(url: str, process: subprocess.Popen, log: Path, seconds=60) -> None:
    """Poll `url` until it answers 200; fail the test (with the log's end) if `process` exits
    or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the process exited ({process.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or not ready (an HTTP error is an OSError)
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen) -> None:
    """Stop `process` and reap it: asked first, killed if it has not gone in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
