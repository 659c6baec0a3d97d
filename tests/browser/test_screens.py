"""The console watcher every browser test uses (tests/browser/screens.py): a request the
page's own next navigation cut short is no failure, the same abort with no navigation after it
is one, and so is a request that fails outright. Played in Chromium against a small real HTTP
server whose script answers slowly."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.screens import watch_console
from tests.servers import Quiet, http_server

PAGES = {
    "/": b'<!doctype html><title>first</title><script defer src="/slow.js"></script>',
    "/next": b"<!doctype html><title>next</title><p>next",
    "/broken": b'<!doctype html><title>broken</title><script src="/missing.js"></script>',
    # a fetch the page itself aborts, no navigation after it
    "/abort": b"""<!doctype html><title>abort</title><script>
        const c = new AbortController();
        fetch("/slow.js", {signal: c.signal}).catch(() => { document.title = "aborted"; });
        setTimeout(() => c.abort(), 200);
    </script>""",
}


class Handler(Quiet):
    def do_GET(self) -> None:
        if self.path == "/favicon.ico":  # asked for by the browser itself: none, no error
            self.send_response(204)
            self.end_headers()
            return
        if self.path == "/slow.js":
            time.sleep(3)
            body, kind = b"window.slow = true;", "text/javascript"
        else:
            body, kind = PAGES.get(self.path, b""), "text/html"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the browser has gone: these tests make it go
            self.wfile.write(body)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with http_server(Handler) as url:
        yield url


@pytest.mark.browser
def test_a_script_cut_short_by_the_next_page_is_no_failure(site: str, browser: Any) -> None:
    page = browser.new_page()
    problems = watch_console(page)
    aborted: list[str] = []
    page.on("requestfailed", lambda r: aborted.append(f"{r.url} {r.failure}"))
    page.goto(f"{site}/", wait_until="commit")
    page.wait_for_selector("title", state="attached")  # parsed, its script still loading
    page.goto(f"{site}/next")
    page.wait_for_timeout(300)
    page.close()
    assert aborted == [f"{site}/slow.js net::ERR_ABORTED"]  # the abort did happen
    assert problems == []


@pytest.mark.browser
def test_an_abort_with_no_navigation_and_a_missing_file_are_failures(
    site: str, browser: Any
) -> None:
    page = browser.new_page()
    problems = watch_console(page)
    page.goto(f"{site}/abort")
    page.wait_for_function("document.title === 'aborted'")
    page.goto(f"{site}/broken")
    page.close()
    assert problems[0] == f"failed {site}/slow.js: net::ERR_ABORTED"
    assert f"404 {site}/missing.js" in problems[1:]
