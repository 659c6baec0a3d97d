"""Behind a reverse proxy on the same machine, a real `annotator serve` counts the proxy's
clients, not the proxy: it takes the client's address from the one `X-Forwarded-For` entry
the proxy appends, so the sign-in throttle holds back one noisy client and not everyone."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.annotator.test_slow_clients import annotator_serve, run_cli
from tests.conftest import PASSWORD


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    env["ANNOTATOR_DATA_DIR"] = str(tmp_path / "instance")
    env["ANNOTATOR_SIGNIN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    run_cli(env, "init")
    run_cli(env, "users", "add", "ana", "--role", "analyst", "--password-stdin", stdin=PASSWORD)
    log = tmp_path / "serve.log"
    with annotator_serve(env, log) as (_process, port):
        yield f"http://127.0.0.1:{port}", log


WRONG = "not-" + PASSWORD


def attempt(base: str, client: str, password: str = WRONG) -> int:
    """One sign-in through the form, as the proxy would pass it on for `client`."""
    with requests.Session() as browser:
        browser.headers["X-Forwarded-For"] = client
        page = browser.get(f"{base}/login", timeout=30)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        answer = browser.post(
            f"{base}/login",
            data={"name": "ana", "password": password, "csrf_token": found.group(1)},
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code


def test_the_sign_in_throttle_counts_each_client_of_the_proxy(proxied: tuple[str, Path]) -> None:
    base, log = proxied
    noisy, other = "203.0.113.9", "198.51.100.7"
    assert [attempt(base, noisy) for _ in range(3)] == [401, 401, 401]
    assert attempt(base, noisy) == 429, "the fourth attempt from one client is held back"
    assert attempt(base, other) == 401, "another client of the same proxy is not"
    assert attempt(base, other, PASSWORD) == 302, "and signs in"
    text = log.read_text(errors="replace")
    assert f"from {noisy} held back" in text
    assert f"from {other} refused" in text
    assert "from 127.0.0.1" not in text, "the proxy's own address is never taken for a client"


def test_only_the_last_forwarded_address_is_believed(proxied: tuple[str, Path]) -> None:
    """A client may write its own X-Forwarded-For; the proxy appends the address it saw, and
    only that last entry counts, so forging the header cannot dodge the throttle."""
    base, log = proxied
    forged = [f"10.0.0.{n}, 203.0.113.50" for n in range(5)]
    assert [attempt(base, header) for header in forged] == [401, 401, 401, 429, 429]
    assert "from 10.0.0." not in log.read_text(errors="replace")
