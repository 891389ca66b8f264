"""Failed sign-ins are throttled per account and per address, and the owner's
own ways in stay open."""

from __future__ import annotations

import time

import pytest
import requests

from app import db, users
from app.auth import tokens
from app.models import AuditEvent, TrustedAddress
from tests.conftest import PASSWORD, make_settings

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 8
BLOCK = 1


@pytest.fixture
def settings(tmp_path):
    return make_settings(
        tmp_path / "data",
        throttle_account_failures=ACCOUNT_LIMIT,
        throttle_address_failures=ADDRESS_LIMIT,
        throttle_block_seconds=BLOCK,
        throttle_block_max_seconds=60,
        throttle_window_seconds=60,
    )


def probe(live, user: str, password: str) -> requests.Response:
    return requests.request(
        "PROPFIND",
        live.dav(user) + "/",
        auth=(user, password),
        headers={"Depth": "0"},
        timeout=10,
    )


def fail(live, times: int, user: str = "alice") -> None:
    for _ in range(times):
        assert probe(live, user, "wrong password").status_code == 401


def wait_out(answer: requests.Response) -> None:
    time.sleep(int(answer.headers["Retry-After"]) + 0.1)


def test_account_is_refused_past_the_threshold_then_lifts(live):
    fail(live, ACCOUNT_LIMIT)
    refused = probe(live, "alice", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(BLOCK)

    started = time.monotonic()
    assert probe(live, "alice", "another guess").status_code == 429
    assert time.monotonic() - started < 0.1, "refused at once, without hashing"

    wait_out(refused)
    assert probe(live, "alice", PASSWORD).status_code == 207


def test_retry_after_grows_with_repeated_blocks(live):
    fail(live, ACCOUNT_LIMIT)
    first = probe(live, "bob-does-not-exist", "x")  # other names are not refused
    assert first.status_code == 401
    refused = probe(live, "alice", "guess")
    assert refused.headers["Retry-After"] == str(BLOCK)
    wait_out(refused)

    fail(live, ACCOUNT_LIMIT)
    again = probe(live, "alice", "guess")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) == 2 * BLOCK


def test_valid_app_token_is_not_refused_by_account_throttling(live):
    token = tokens.create(users.get("alice"), label="sync")[1]
    fail(live, ACCOUNT_LIMIT)
    assert probe(live, "alice", PASSWORD).status_code == 429
    assert probe(live, "alice", token).status_code == 207
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{live.url}/auth-app/tokens", headers=bearer).ok


def test_address_that_signed_in_recently_is_not_locked_out(live):
    assert probe(live, "alice", PASSWORD).status_code == 207
    fail(live, ACCOUNT_LIMIT)
    assert probe(live, "alice", PASSWORD).status_code == 207

    with db.write():
        TrustedAddress.update(last_success=time.time() - 31 * 86400).execute()
    assert probe(live, "alice", PASSWORD).status_code == 429


def test_address_is_refused_everything_past_its_threshold(live):
    token = tokens.create(users.get("alice"), label="sync")[1]
    for number in range(ADDRESS_LIMIT):
        assert probe(live, f"guessed{number}", "x").status_code == 401
    refused = probe(live, "alice", token)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{live.url}/auth-app/tokens", headers=bearer).status_code == (
        429
    )
    wait_out(refused)
    assert probe(live, "alice", token).status_code == 207


def test_failed_token_sign_ins_count_too(live):
    wrong = "grove_0123456789abcdef_" + "0" * 48
    for _ in range(ACCOUNT_LIMIT):
        assert probe(live, "alice", wrong).status_code == 401
    assert probe(live, "alice", PASSWORD).status_code == 429


def test_every_success_failure_and_refusal_is_audited(live):
    probe(live, "alice", PASSWORD)
    fail(live, ACCOUNT_LIMIT)
    with db.write():
        TrustedAddress.delete().execute()
    probe(live, "alice", PASSWORD)
    events = [
        (event.action, event.outcome, event.actor)
        for event in AuditEvent.select()
        .where(AuditEvent.action.startswith("auth."))
        .order_by(AuditEvent.id)
    ]
    assert events == [
        ("auth.signin", "ok", "alice"),
        *[("auth.signin", "failed", "alice")] * ACCOUNT_LIMIT,
        ("auth.throttled", "refused", "alice"),
    ]
    auth = AuditEvent.select().where(AuditEvent.action.startswith("auth."))
    assert all(event.address == "127.0.0.1" for event in auth)


def _link(live, password: str | None) -> str:
    from app import links, spaces
    from app.auth.principal import Principal
    from app.perms import Perm

    alice = users.get("alice")
    (live.user_root("alice") / "drop").mkdir()
    tree = live.app.grove.tree(spaces.personal_space(alice))
    grant = links.create(
        Principal(user_id=str(alice.id), name="alice"),
        tree.item(["drop"]),
        Perm.owner(),
        link_type="view",
        password=password,
    )
    return f"{live.url}/dav/public-files/{grant.link_token}/"


def open_link(url: str, password: str | None) -> requests.Response:
    auth = None if password is None else ("public", password)
    return requests.request(
        "PROPFIND", url, auth=auth, headers={"Depth": "0"}, timeout=10
    )


def test_guessing_a_link_password_is_throttled_by_address(live):
    url = _link(live, "link secret")
    for number in range(ADDRESS_LIMIT):
        assert open_link(url, f"guess {number}").status_code == 401
    refused = open_link(url, "link secret")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # The guessing address is refused its sign-ins too.
    assert probe(live, "alice", PASSWORD).status_code == 429
    wait_out(refused)
    assert open_link(url, "link secret").status_code == 207
    refusals = AuditEvent.select().where(AuditEvent.action == "auth.throttled")
    assert refusals.count() >= 2


def test_a_link_without_a_password_stays_open_to_a_throttled_address(live):
    url = _link(live, None)
    for number in range(ADDRESS_LIMIT):
        assert probe(live, f"guessed{number}", "x").status_code == 401
    assert probe(live, "alice", PASSWORD).status_code == 429
    assert open_link(url, None).status_code == 207
