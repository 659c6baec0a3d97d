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
