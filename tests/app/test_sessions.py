"""Sessions from /signin: cookie flags, CSRF, TOTP, listing, ending, expiry."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import requests

from app import db
from app.models import Session
from tests.conftest import PASSWORD, make_settings


@pytest.fixture
def settings(tmp_path):
    return make_settings(
        tmp_path / "data", session_idle_seconds=600, session_max_seconds=3600
    )


def sign_in(live, totp: str = "", password: str = PASSWORD) -> requests.Response:
    return requests.post(
        f"{live.url}/signin",
        json={"username": "alice", "password": password, "totp": totp},
        timeout=10,
    )


def session_of(answer: requests.Response) -> requests.Session:
    assert answer.status_code == 204, answer.text
    browser = requests.Session()
    browser.cookies.update(answer.cookies)
    browser.headers["X-CSRF-Token"] = answer.headers["X-CSRF-Token"]
    return browser


def probe(session: requests.Session, url: str) -> int:
    return session.request("PROPFIND", url, headers={"Depth": "0"}).status_code


def test_signin_sets_a_guarded_cookie_that_opens_webdav_and_the_api(live):
    answer = sign_in(live)
    assert answer.status_code == 204
    cookie = answer.headers["Set-Cookie"]
    assert "grove_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "plain HTTP: the browser would drop it"

    browser = session_of(answer)
    assert probe(browser, live.dav() + "/") == 207
    assert browser.put(f"{live.dav()}/s.txt", data=b"hi").status_code == 201
    assert browser.get(f"{live.url}/auth-app/tokens").status_code == 200


def test_state_changes_with_the_cookie_need_the_csrf_token(live):
    browser = session_of(sign_in(live))
    token = browser.headers.pop("X-CSRF-Token")
    assert browser.put(f"{live.dav()}/x.txt", data=b"x").status_code == 403
    assert browser.post(f"{live.url}/auth-app/tokens").status_code == 403
    browser.headers["X-CSRF-Token"] = "0" * len(token)
    assert browser.request("MKCOL", f"{live.dav()}/d").status_code == 403
    assert probe(browser, live.dav() + "/") == 207
    assert not (live.user_root() / "x.txt").exists()


def test_wrong_password_gets_no_session(live):
    answer = sign_in(live, password="wrong password")
    assert answer.status_code == 401
    assert "Set-Cookie" not in answer.headers


def test_signin_with_totp_needs_a_current_code_once(live, alice):
    begun = alice.post(f"{live.url}/auth/totp").json()
    generator = pyotp.TOTP(parse_qs(urlparse(begun["otpauth_uri"]).query)["secret"][0])
    now = time.time()
    confirmed = alice.post(
        f"{live.url}/auth/totp/confirm", json={"code": generator.at(now)}
    )
    recovery = confirmed.json()["recovery_codes"]

    assert sign_in(live).status_code == 401
    assert "TOTP" in sign_in(live).json()["error"]["message"]
    assert sign_in(live, totp=generator.at(now)).status_code == 401, "used already"
    code = generator.at(now + 30)
    browser = session_of(sign_in(live, totp=code))
    assert probe(browser, live.dav() + "/") == 207
    assert sign_in(live, totp=code).status_code == 401

    assert sign_in(live, totp=recovery[0]).status_code == 204
    assert sign_in(live, totp=recovery[0]).status_code == 401


def test_sessions_are_listed_and_ended(live):
    first = session_of(sign_in(live))
    second = session_of(sign_in(live))
    listed = first.get(f"{live.url}/auth/sessions").json()
    assert len(listed) == 2
    assert [entry["current"] for entry in listed] == [True, False]
    other = listed[1]["id"]

    assert first.delete(f"{live.url}/auth/sessions/{other}").status_code == 204
    assert probe(second, live.dav() + "/") == 401
    assert first.delete(f"{live.url}/auth/sessions/{other}").status_code == 404

    assert first.post(f"{live.url}/signout").status_code == 204
    assert probe(first, live.dav() + "/") == 401


def test_sessions_expire_when_idle_and_at_their_maximum_age(live):
    idle, old = session_of(sign_in(live)), session_of(sign_in(live))
    rows = list(Session.select().order_by(Session.created))
    with db.write():
        Session.update(last_seen=time.time() - 601).where(
            Session.id == rows[0].id
        ).execute()
        Session.update(created=time.time() - 3601).where(
            Session.id == rows[1].id
        ).execute()
    assert probe(idle, live.dav() + "/") == 401
    assert probe(old, live.dav() + "/") == 401


def test_password_change_ends_sessions(live):
    from app import users

    browser = session_of(sign_in(live))
    users.set_password("alice", "a brand new password")
    assert probe(browser, live.dav() + "/") == 401


def test_revoking_a_token_from_a_session_keeps_the_session(live):
    browser = session_of(sign_in(live))
    made = browser.post(f"{live.url}/auth-app/tokens").json()["token"]
    gone = browser.delete(f"{live.url}/auth-app/tokens", params={"token": made})
    assert gone.status_code == 200
    assert probe(browser, live.dav() + "/") == 207


def test_signing_in_again_with_a_cookie_needs_no_csrf_token(live):
    browser = session_of(sign_in(live))
    del browser.headers["X-CSRF-Token"]
    again = browser.post(
        f"{live.url}/signin", json={"username": "alice", "password": PASSWORD}
    )
    assert again.status_code == 204


def test_html_form_signs_in_and_shows_errors(live):
    page = requests.get(f"{live.url}/signin", timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    wrong = requests.post(
        f"{live.url}/signin",
        data={"username": "alice", "password": "<script>"},
        allow_redirects=False,
        timeout=10,
    )
    assert wrong.status_code == 401 and "invalid credentials" in wrong.text
    right = requests.post(
        f"{live.url}/signin",
        data={"username": "alice", "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert right.status_code == 303
    assert "HttpOnly" in right.headers["Set-Cookie"]
