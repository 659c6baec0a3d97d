"""A live app on a free local port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import require
from tests.servers import in_thread, wsgi_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` on a free local port, in a thread; yields its base URL."""
    with in_thread(wsgi_server(app)) as url:
        yield url


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
            "Debian's chromium is not installed (make test installs it as root)")  # fmt: skip
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def open_signed_in(page: Any, live_server: str, path: str, user: str) -> None:
    """Open `path`, be sent to the login form, sign in as `user`, land back on `path`."""
    from tests.conftest import PASSWORD

    page.goto(f"{live_server}{path}")
    assert "/login" in page.url, "pages need a signed-in user"
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{live_server}{path}")
