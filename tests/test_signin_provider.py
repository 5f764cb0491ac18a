"""Sign-in through a real OpenID Connect provider (tests/oidc.py), proven on a page of the
test's own served as `bluelight dashboard` serves the dashboard: the claims reach st.user, each
user in a browser of their own sees only themselves, signing out forgets them, and nothing
leaves the machine."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import CHROMIUM_FLAGS, chromium_or_skip
from oidc import (
    USER_COOKIE,
    environment,
    keep_on_machine,
    oidc_provider,
    reached_beyond,
    served,
    sign_in,
    sign_out,
    signin_settings,
)

from flows.security import signin
from flows.settings import Settings

# The page: a sign-in button, or who is signed in and everything st.user holds.
APP = """
import json

import streamlit as st

if not st.user.is_logged_in:
    st.button("Sign in", on_click=st.login)
else:
    st.button("Sign out", on_click=st.logout)
    st.markdown(f"Signed in as **{st.user.email}**")
    st.code(json.dumps(st.user.to_dict(), sort_keys=True), language="json")
"""
# oidc-provider-mock's pages link this stylesheet; the browser is refused it.
PROVIDER_STYLESHEET = "https://cdn.jsdelivr.net/npm/@picocss/pico@2/css/pico.min.css"
TOKEN_SECONDS = 600


def shown_user(page) -> dict:
    return json.loads(page.get_by_test_id("stCode").inner_text())


@pytest.mark.browser
def test_two_users_sign_in_through_a_real_provider_and_st_user_holds_their_claims(tmp_path):
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    app = tmp_path / "app.py"
    app.write_text(APP)
    with oidc_provider(tmp_path, token_max_age=TOKEN_SECONDS) as provider:
        provider.user("ann", email="ann@pcc.example", groups=["bluelight-commissioner-22"])
        provider.user("bob", email="bob@audit.example", groups=["bluelight-auditor"], name="Bob")
        settings = signin_settings(provider, tmp_path / "home")
        with served(settings, tmp_path, app=app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            ann = browser.new_context()
            refused = keep_on_machine(ann)
            page = ann.new_page()
            page.goto(url)
            started = time.time()
            sign_in(page, "ann")
            took = time.time() - started
            page.get_by_text("Signed in as ann@pcc.example").wait_for()
            claims = shown_user(page)
            cookies = {c["name"]: c for c in ann.cookies(url)}

            # A second user, in a browser context of their own, is themselves only.
            bob = browser.new_context()
            refused += keep_on_machine(bob)
            other = bob.new_page()
            other.goto(url)
            sign_in(other, "bob")
            other.get_by_text("Signed in as bob@audit.example").wait_for()
            bob_claims = shown_user(other)

            # Ann's sign-in outlives a reload (the cookie), and ends when she signs out.
            page.reload()
            page.get_by_text("Signed in as ann@pcc.example").wait_for()
            sign_out(page)
            page.get_by_role("button", name="Sign in").wait_for()
            page.reload()
            page.get_by_role("button", name="Sign in").wait_for()
            assert page.get_by_text("Signed in as").count() == 0
            browser.close()

    print(f"\nsign-in took {took:.2f} s; st.user: {claims}")
    assert claims["email"] == "ann@pcc.example"
    assert claims["groups"] == ["bluelight-commissioner-22"]
    assert claims["sub"] == "ann" and claims["is_logged_in"] is True
    assert claims["iss"] == provider.issuer and claims["aud"] == [settings.oidc_client_id]
    assert started - 5 <= claims["iat"] <= started + took + 5
    assert claims["exp"] - claims["iat"] == TOKEN_SECONDS
    assert (bob_claims["sub"], bob_claims["email"], bob_claims["groups"], bob_claims["name"]) == (
        "bob",
        "bob@audit.example",
        ["bluelight-auditor"],
        "Bob",
    )
    assert "name" not in claims  # only what the provider holds for Ann
    # The sign-in is a signed cookie only the server reads, kept 30 days whatever the token's
    # expiry; not marked Secure, so it is sent over plain http to 127.0.0.1.
    user_cookie = cookies[USER_COOKIE]
    assert (user_cookie["httpOnly"], user_cookie["sameSite"], user_cookie["secure"]) == (
        True,
        "Lax",
        False,
    )
    assert 29 * 86400 < user_cookie["expires"] - started < 31 * 86400
    assert took < 15
    # The provider's pages asked for their stylesheet on a CDN: refused. Nothing else.
    assert set(refused) == {PROVIDER_STYLESHEET}
    assert reached_beyond(tmp_path) == []  # nor did the provider or Streamlit try


@pytest.mark.browser
def test_opened_at_another_address_than_the_redirect_uri_the_sign_in_does_not_hold(tmp_path):
    """The provider sends the browser back to the registered redirect_uri (127.0.0.1); opened
    at localhost, the state Authlib kept is in localhost's cookies, so Streamlit cannot
    finish the sign-in: users must open the dashboard at BLUELIGHT_DASHBOARD_URL."""
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    app = tmp_path / "app.py"
    app.write_text(APP)
    with oidc_provider(tmp_path) as provider:
        provider.user("ann", email="ann@pcc.example")
        settings = signin_settings(provider, tmp_path / "home")
        with served(settings, tmp_path, app=app) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            context = browser.new_context()
            keep_on_machine(context)
            page = context.new_page()
            page.goto(url.replace("127.0.0.1", "localhost"))
            with pytest.raises(AssertionError, match="Streamlit kept no sign-in"):
                sign_in(page, "ann")
            cookies = {c["name"] for c in context.cookies([url, page.url])}
            browser.close()
    assert USER_COOKIE not in cookies
    assert "Missing provider for OAuth callback" in (tmp_path / "streamlit.log").read_text()
    assert signin.redirect_uri(settings, "127.0.0.1") == url + "/oauth2callback"


def test_the_environment_gives_bluelight_dashboard_the_signin_settings(tmp_path, monkeypatch):
    settings = Settings(
        home=tmp_path,
        dashboard_port=8765,
        dashboard_url="http://127.0.0.1:8765",
        oidc_issuer="http://127.0.0.1:9400",
        oidc_client_id="client-1",
        oidc_client_secret="secret-1",
    )
    assert environment(settings) == {
        "BLUELIGHT_HOME": str(tmp_path),
        "BLUELIGHT_DASHBOARD_PORT": "8765",
        "BLUELIGHT_DASHBOARD_URL": "http://127.0.0.1:8765",
        "BLUELIGHT_OIDC_ISSUER": "http://127.0.0.1:9400",
        "BLUELIGHT_OIDC_CLIENT_ID": "client-1",
        "BLUELIGHT_OIDC_CLIENT_SECRET": "secret-1",
    }
    for variable in [v for v in os.environ if v.startswith("BLUELIGHT_")]:
        monkeypatch.delenv(variable)
    for variable, value in environment(settings).items():
        monkeypatch.setenv(variable, value)
    assert Settings.from_env() == settings
