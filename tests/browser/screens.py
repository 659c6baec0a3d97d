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
    """Console errors, failed requests and 4xx/5xx answers the page sees."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    # a download ends its navigation as aborted: that is the browser saving it, no failure
    page.on(
        "requestfailed",
        lambda r: (
            None
            if "/api/v1/exports?" in r.url and "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"failed {r.url}: {r.failure}")
        ),
    )
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
