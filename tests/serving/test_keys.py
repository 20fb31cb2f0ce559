"""Keys under load, through the running app: refused keys limited per client address (429 with
Retry-After, on the API and the page's login alike), a revoked key refused from the next request
without a restart, an expired key refused saying so, and the page's cookies Secure only behind
HTTPS. (The limiter's own bookkeeping: tests/serving/test_ratelimit.py.)"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobmatch import main
from serving.app import create_app
from serving.auth import Identity, add_key, fingerprint, key_hash, load_keys
from serving.ratelimit import FailureLimiter

WINDOW = 2.0  # seconds: short, so the test sees the window pass
LIMIT = 3
URL = "/model/scoring"  # any role may read it


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def site(trained: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, dict[str, str]]]:
    """An app with its own key file and store, a limit of 3 refused keys per 2 seconds."""
    home = tmp_path_factory.mktemp("keys")
    keys_file = home / "api-keys.json"
    keys_file.write_text((trained.home / "api-keys.json").read_text(encoding="utf-8"), encoding="utf-8")
    settings = trained.settings(
        api_keys_file=keys_file,
        database_url=f"sqlite:///{home / 'store.db'}",
        auth_failure_limit=LIMIT,
        auth_failure_window_seconds=WINDOW,
    )
    with TestClient(create_app(settings)) as client:
        yield client.app, keys_file, dict(trained.keys)


def from_address(app: Any, host: str) -> TestClient:
    return TestClient(app, client=(host, 40000))


def login_form(client: TestClient, lang: str = "no") -> str:
    page = client.get(f"/app/login?lang={lang}")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def test_refused_keys_from_one_address_get_429_with_retry_after_until_the_window_passes(
    site: tuple[Any, Path, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, _, keys = site
    guesser, other = from_address(app, "203.0.113.5"), from_address(app, "198.51.100.7")
    assert guesser.get(URL, headers=bearer(keys["batch"])).status_code == 200
    with caplog.at_level(logging.INFO, logger="jobmatch"):
        for i in range(LIMIT):
            refused = guesser.get(URL, headers=bearer(f"guess-{i}"))
            assert refused.status_code == 401, "the first failures are answered as before"
    limiter = app.state.auth_failures
    assert isinstance(limiter, FailureLimiter) and (limiter.limit, limiter.window) == (LIMIT, WINDOW)

    blocked = guesser.get(URL, headers=bearer("guess-next"))
    assert blocked.status_code == 429
    wait = int(blocked.headers["Retry-After"])
    assert 1 <= wait <= WINDOW
    assert blocked.json()["detail"] == f"too many refused API keys from this address; try again in {wait} seconds"
    # while refused, no key from the address is checked: a right guess would look the same
    assert guesser.get(URL, headers=bearer(keys["batch"])).status_code == 429

    # another address is not affected: its good key works, its first wrong key is a plain 401
    for _ in range(20):
        assert other.get(URL, headers=bearer(keys["batch"])).status_code == 200
    assert other.get(URL, headers=bearer("other-guess")).status_code == 401

    # the page's login from the refused address says so, in Norwegian or English, without checking the key
    browser = from_address(app, "203.0.113.5")
    page = browser.post("/app/login", data={"api_key": keys["adviser"], "login_token": login_form(browser)})
    assert page.status_code == 429 and 1 <= int(page.headers["Retry-After"]) <= WINDOW
    assert "For mange ukjente nøkler fra denne adressen. Prøv igjen om" in page.text and "sekund" in page.text
    english = browser.post("/app/login", data={"api_key": keys["adviser"], "login_token": login_form(browser, "en")})
    assert english.status_code == 429 and "Too many unknown keys from this address. Try again in" in english.text
    assert "jobmatch_session" not in english.headers.get("set-cookie", "")

    time.sleep(wait + 0.2)
    assert guesser.get(URL, headers=bearer(keys["batch"])).status_code == 200, "after the window it works again"
    assert guesser.get(URL, headers=bearer("guess-after")).status_code == 401

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "guess-" not in logged and "203.0.113.5" not in logged, "neither keys nor addresses in the log"
    assert f"an address reached {LIMIT} refused API keys" in logged


def test_the_page_and_the_api_share_one_count_and_requests_without_a_key_are_not_counted(
    site: tuple[Any, Path, dict[str, str]],
) -> None:
    app, _, keys = site
    walker = from_address(app, "192.0.2.44")
    for _ in range(LIMIT * 4):  # no key at all: a browser or a probe, not a guess
        assert walker.get(URL).status_code == 401
    assert walker.get(URL, headers=bearer(keys["batch"])).status_code == 200
    for i in range(LIMIT):
        failed = walker.post("/app/login", data={"api_key": f"wrong-{i}", "login_token": login_form(walker)})
        assert failed.status_code == 401 and "Ukjent nøkkel" in failed.text
    assert walker.get(URL, headers=bearer(keys["batch"])).status_code == 429, "the login's failures count on the API"


def test_a_revoked_key_is_refused_by_the_running_app_and_ends_its_page_session(
    site: tuple[Any, Path, dict[str, str]], trained: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app, keys_file, _ = site
    adviser_id = str(trained.dataset.candidates["adviser_id"].iloc[0])
    key = add_key(keys_file, Identity(name="revoked-adviser", role="adviser", adviser_id=adviser_id))
    client = from_address(app, "192.0.2.10")
    # added while the app runs, and no one told the app: it reads the changed file
    assert client.get(URL, headers=bearer(key)).status_code == 200
    browser = from_address(app, "192.0.2.10")
    logged_in = browser.post("/app/login", data={"api_key": key, "login_token": login_form(browser)})
    assert logged_in.status_code == 200 and "Mine kandidater" in logged_in.text

    assert main(["keys", "revoke", "revoked-adviser", "--file", str(keys_file)]) == 0
    assert "revoked 1 key(s) of revoked-adviser" in capsys.readouterr().err
    refused = client.get(URL, headers=bearer(key))
    assert refused.status_code == 401 and "unknown API key" in refused.json()["detail"]
    assert browser.get("/app", follow_redirects=False).headers["location"] == "/app/login", "the session ended"
    assert "revoked-adviser" not in {identity.name for identity in load_keys(keys_file).values()}
    assert main(["keys", "revoke", "revoked-adviser", "--file", str(keys_file)]) == 2, "nothing left to revoke"


def test_revoke_by_id_removes_only_that_key_of_a_holder(
    site: tuple[Any, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    app, keys_file, _ = site
    first = add_key(keys_file, Identity(name="two-keys", role="batch"))
    second = add_key(keys_file, Identity(name="two-keys", role="batch"))
    assert main(["keys", "list", "--file", str(keys_file)]) == 0
    listing = capsys.readouterr().out
    assert first not in listing and second not in listing, "the list never shows a key"
    ids = [line.split()[3] for line in listing.splitlines() if line.startswith("two-keys ")]
    assert ids == [fingerprint(key_hash(first)), fingerprint(key_hash(second))]
    assert main(["keys", "revoke", "two-keys", "--id", ids[1], "--file", str(keys_file)]) == 0
    client = from_address(app, "192.0.2.11")
    assert client.get(URL, headers=bearer(first)).status_code == 200
    assert client.get(URL, headers=bearer(second)).status_code == 401


def test_an_expired_key_is_refused_saying_it_expired_and_keys_without_expiry_keep_working(
    site: tuple[Any, Path, dict[str, str]], trained: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app, keys_file, keys = site
    adviser_id = str(trained.dataset.candidates["adviser_id"].iloc[0])
    past = dt.datetime(2020, 3, 1, tzinfo=dt.UTC)
    expired = add_key(keys_file, Identity(name="old-adviser", role="adviser", adviser_id=adviser_id, expires=past))
    client = from_address(app, "192.0.2.12")
    refused = client.get(URL, headers=bearer(expired))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "this API key expired on 2020-03-01 00:00 UTC; ask for a new key"
    for _ in range(LIMIT + 1):  # an expired key is not a guess: the holder keeps being told why
        assert client.get(URL, headers=bearer(expired)).status_code == 401
    page = client.post("/app/login", data={"api_key": expired, "login_token": login_form(client)})
    assert page.status_code == 401 and "Nøkkelen din gikk ut 01.03.2020. Be om en ny nøkkel." in page.text

    add = ["keys", "add", "--name", "new-batch", "--role", "batch", "--file", str(keys_file)]
    assert main([*add, "--expires", "30"]) == 0
    fresh = capsys.readouterr().out.strip()
    assert client.get(URL, headers=bearer(fresh)).status_code == 200
    assert client.get(URL, headers=bearer(keys["batch"])).status_code == 200, "a key without expiry keeps working"

    assert main(["keys", "list", "--file", str(keys_file)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["NAME", "ROLE", "FOR", "ID", "EXPIRES"]
    rows = {line.split()[0]: line for line in listing[1:]}
    assert rows["old-adviser"].endswith("2020-03-01 00:00 UTC (expired)")
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%d")
    assert soon in rows["new-batch"] and "(expired)" not in rows["new-batch"]
    assert rows["test-batch"].endswith("never")


def test_keys_add_refuses_an_expiry_in_the_past(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys_file = tmp_path / "keys.json"
    add = ["keys", "add", "--name", "x", "--role", "batch", "--file", str(keys_file)]
    with pytest.raises(SystemExit):
        main([*add, "--expires", "2001-01-01"])
    assert "the expiry must be in the future" in capsys.readouterr().err
    assert not keys_file.exists()
    assert main([*add, "--expires", "2099-06-30"]) == 0
    (identity,) = load_keys(keys_file).values()
    assert identity.expires == dt.datetime(2099, 6, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("behind_https", [False, True])
def test_the_page_cookies_are_secure_only_behind_https(trained: Any, tmp_path: Path, behind_https: bool) -> None:
    settings = trained.settings(database_url=f"sqlite:///{tmp_path / 'store.db'}", behind_https=behind_https)
    with TestClient(create_app(settings)) as client:
        form = client.get("/app/login")
        login_cookie = next(c for c in form.headers.get_list("set-cookie") if c.startswith("jobmatch_login="))
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        client.cookies.clear()  # as the browser behind the TLS proxy sends it, whether Secure or not
        response = client.post(
            "/app/login",
            data={"api_key": trained.keys["adviser"], "login_token": token.group(1)},
            headers={"Cookie": f"jobmatch_login={token.group(1)}"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("jobmatch_session="))
    for cookie in (login_cookie, session_cookie):
        assert ("; secure" in cookie.lower()) is behind_https, cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_every_operation_that_takes_a_key_documents_429_with_retry_after(
    site: tuple[Any, Path, dict[str, str]],
) -> None:
    app, _, _ = site
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    with_key = [op for ops in paths.values() for op in ops.values() if "401" in op["responses"]]
    assert len(with_key) >= 30
    assert all("Retry-After" in op["responses"]["429"]["headers"] for op in with_key)
    assert "429" not in paths["/health"]["get"]["responses"]
