"""Browser test helpers: a screenshot when a test fails, and requests that leave the origin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


@contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    """On any failure inside the block, save the page to test-artifacts/<name>.png."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failure: {path}")
        except Exception as exc:  # the page may be gone; the original error matters more
            print(f"no screenshot of the failure: {exc}")
        raise


def watch_origin(page: Any, origin: str) -> list[str]:
    """Every request the page makes outside `origin` is appended to the returned list."""
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(origin) else outside.append(r.url))
    return outside


def watch_console(page: Any) -> list[str]:
    """Console errors, failed requests and 4xx/5xx answers the page sees.

    A request the page's own next navigation cut short (the reader clicked on before every
    script or fetch of the page they left had ended: `net::ERR_ABORTED`, as a browser does to
    the document it leaves) is no failure; the same abort with no later navigation is."""
    problems: list[str] = []
    navigations = [0]  # main-frame navigations begun so far
    begun: dict[Any, int] = {}  # request -> navigations begun when it was sent

    def sent(request: Any) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            navigations[0] += 1
        begun[request] = navigations[0]

    def failed(request: Any) -> None:
        failure = request.failure or ""
        left = navigations[0] > begun.pop(request, navigations[0])
        # a download ends its navigation as aborted: that is the browser saving it
        download = "/api/v1/exports?" in request.url
        if "ERR_ABORTED" in failure and (left or download):
            return
        problems.append(f"failed {request.url}: {failure}")

    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", sent)
    page.on("requestfinished", lambda r: begun.pop(r, None))
    page.on("requestfailed", failed)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return problems


def download(page: Any, fmt: str, folder: Path) -> Path:
    """Choose `fmt` in the page's Export menu and save the file it downloads into `folder`."""
    page.select_option("form.export select[name=format]", fmt)
    with page.expect_download() as event:
        page.click("form.export button[type=submit]")
    target = folder / event.value.suggested_filename
    event.value.save_as(target)
    return target
