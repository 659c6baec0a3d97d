"""The API docs page in a real browser: Swagger UI from the app itself, under the app's CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from annotator import services
from annotator.api import openapi
from tests.browser.conftest import open_signed_in

OPERATIONS = {"get", "put", "post", "delete", "patch"}
# a listener added before any page script runs, so it sees every violation of the policy
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_api_docs_page_renders_every_operation_offline(
    app: Flask, live_server: str, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    outside: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))

    open_signed_in(page, live_server, "/api/v1/docs", "analyst")
    # a selector, not wait_for_function("..."): Playwright evaluates an expression string with
    # eval(), which this page's CSP (rightly) refuses whenever the first check has to poll
    page.wait_for_selector("body[data-api-docs=ready]", state="attached", timeout=20000)
    page.wait_for_selector(".opblock", timeout=10000)

    blocks = page.eval_on_selector_all(
        ".opblock",
        """els => els.map(e => [
            e.querySelector('.opblock-summary-method').textContent.trim().toLowerCase(),
            e.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
    )
    rendered = {(method, path) for method, path in blocks}
    document = openapi.build(services.taxonomy(app), app=app)
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        for method in OPERATIONS & set(item)
    }
    assert rendered == documented
    assert "/api/v1/annotations/{annotation_id}" in page.inner_text("#swagger-ui")

    # "Try it out" on a write: the page adds the session's CSRF token, so the POST succeeds
    block = page.locator("#operations-sites-createSite")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for(timeout=10000)
    assert status.first.inner_text().strip() == "201", block.inner_text()
    with services.database(app).read() as session:
        from annotations.catalogue.sites import get_site

        assert get_site(session, "hmeimim-air-base").created_by == "analyst"

    page.screenshot(path=str(Path(app.config["DATA_DIR"]) / "api-docs.png"), full_page=False)
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"Content-Security-Policy violations: {violations}"
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console
    assert not [m for m in console if m.startswith("page error")], console
    assert outside == [], f"requests left the app's origin: {outside}"
    page.close()
