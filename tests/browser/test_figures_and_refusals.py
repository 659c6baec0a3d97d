"""The scripts' figures and the server's refusals in Chromium (issue 16).

figures.js writes numbers, dates and times as the server's Babel filters do (the same text,
Latin digits by default, Arabic-Indic with ANNOTATOR_ARABIC_DIGITS=arabic-indic, coordinates
always Latin); refusal.js shows a refusal in Arabic by its error code with the server's English
after it, isolated left-to-right, as the workspace's requests (workspace/api.js) now do. English
pages keep the English as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from annotator.language import formats
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import watch_console
from tests.conftest import _app_with_users, make_app, write_geotiff

WHEN = "2024-12-13T08:21:00Z"
#: Latin digits, point and comma -> Arabic-Indic digits and separators (U+066B, U+066C)
INDIC = {ord(d): 0x0660 + int(d) for d in "0123456789"} | {ord("."): 0x066B, ord(","): 0x066C}


def indic(text: str) -> str:
    return text.translate(INDIC)


NUMBERS = [(1234.5, None), (0.125, None), (3.14159, 2), (2500000, None), (7, 0)]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("figures")
    for application in _app_with_users(make_app(folder)):
        data = np.random.default_rng(5).integers(1, 255, (3, 32, 32), dtype=np.uint8)
        tiff = write_geotiff(folder / "capture.tif", data)
        imported = import_images(
            services.database(application),
            application.config["IMAGES_DIR"],
            [Upload(tiff, "capture.tif")],
            Provenance(provider="provider"),
            max_pixels=10**9,
        )
        application.config["TEST_IMAGE_ID"] = imported[0].image.id
        yield application


@pytest.fixture(scope="module")
def live(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def server_wrote(app: Flask, language: str) -> dict[str, Any]:
    """What the server's filters write in `language` (the figures the scripts must match)."""
    with app.test_request_context(headers={"Accept-Language": language}):
        return {
            "numbers": [formats.number(v, d) for v, d in NUMBERS],
            "moment": formats.moment(WHEN),
            "day": formats.day(WHEN),
        }


SCRIPT = """async ([numbers, when]) => {
  const f = window.Annotator.figures;
  const i18n = await import("/static/i18n.js");
  const words = await import("/static/jobs/words.js");
  const values = { num: 12, text: "35.5" }, said = "%(num)s and %(text)s";
  return {
    sentences: [window.Annotator.t(said, values), i18n.t(said, values)],
    lines: [words.lineNode("checked 1,234 of 5,000 features").textContent,
            words.placementNode("placed by 6 control points, RMSE 0.85 m").textContent],
    numbers: numbers.map(([v, d]) => d === null ? f.number(v) : f.number(v, d)),
    moment: window.Annotator.moment(when), day: f.day(when),
    coordinate: f.coordinate(35.4123456, 6), percent: f.percent(0.425),
    digits: document.querySelector('meta[name="annotator-digits"]').content,
  };
}"""


def page_in(browser: Any, live: str, language: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_cookies([{"name": "annotator_language", "value": language, "url": live}])
    page = context.new_page()
    return context, page, watch_console(page)


@pytest.mark.parametrize("digits", ["latin", "arabic-indic"])
def test_figures_in_arabic_are_the_servers(
    app: Flask, live: str, browser: Any, digits: str
) -> None:
    app.config["ARABIC_DIGITS"] = digits
    try:
        context, page, problems = page_in(browser, live, "ar")
        page.goto(f"{live}/login")
        shown = page.evaluate(SCRIPT, [[list(n) for n in NUMBERS], WHEN])
        wrote = server_wrote(app, "ar")
    finally:
        app.config["ARABIC_DIGITS"] = "latin"
    assert shown["digits"] == digits
    assert shown["numbers"] == wrote["numbers"]
    assert shown["moment"] == wrote["moment"] and shown["day"] == wrote["day"]
    assert "ديسمبر" in shown["moment"] and shown["moment"].endswith(" UTC")
    indic = digits == "arabic-indic"
    assert ("١٣" in shown["day"]) is indic and ("13" in shown["day"]) is not indic
    assert ("٤٣" in shown["percent"]) is indic
    assert shown["coordinate"] == "35.412346"  # coordinates stay Latin
    # a number given to t() is written in the page's digits, text as it is (common.js, i18n.js)
    assert shown["sentences"] == [("١٢" if indic else "12") + " and 35.5"] * 2
    # a job's line and a placement keep the server's figures, in the page's digits

    def written(text: str) -> str:
        return text.translate(INDIC) if indic else text

    assert written("1,234") in shown["lines"][0] and written("5,000") in shown["lines"][0]
    assert written("0.85") in shown["lines"][1] and written("6") in shown["lines"][1]
    assert "checked" not in shown["lines"][0]  # the line itself is in Arabic
    assert problems == []
    context.close()


def test_figures_in_english_stay_as_they_were(app: Flask, live: str, browser: Any) -> None:
    context, page, problems = page_in(browser, live, "en")
    page.goto(f"{live}/login")
    shown = page.evaluate(SCRIPT, [[list(n) for n in NUMBERS], WHEN])
    assert shown["moment"] == "2024-12-13 08:21 UTC" == server_wrote(app, "en")["moment"]
    assert shown["numbers"] == server_wrote(app, "en")["numbers"]
    assert shown["percent"] == "43%" and shown["day"] == "2024-12-13"
    assert shown["sentences"] == ["12 and 35.5"] * 2
    assert shown["lines"][0] == "checked 1,234 of 5,000 features"
    assert problems == []
    context.close()


REFUSE = """async () => {
  const answer = await AW.request("POST", "/api/v1/sites", { name: "x", lon: 1, lat: 2 });
  const body = answer.data;
  const node = window.Annotator.refusal(body, answer.status);
  const bdi = node.querySelector("bdi");
  return { status: answer.status, body, message: answer.message, text: node.textContent,
           bdi: bdi && { dir: bdi.dir, text: bdi.textContent } };
}"""


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_refusal_in_the_workspace(app: Flask, live: str, browser: Any, language: str) -> None:
    """A viewer's refused request from the workspace's own request function: in Arabic a
    lead-in by the code, then the server's English isolated left-to-right; in English the
    server's message alone, as before."""
    context, page, problems = page_in(browser, live, language)
    open_signed_in(page, live, f"/images/{app.config['TEST_IMAGE_ID']}", "viewer")
    page.wait_for_function(
        "typeof window.AW === 'object' && typeof window.AW.request === 'function'"
    )
    got = page.evaluate(REFUSE)
    assert got["status"] == 403 and got["body"]["error"] == "forbidden"
    english = got["body"]["message"]
    assert english and not any("\u0600" <= c <= "\u06ff" for c in english)
    if language == "ar":
        assert got["message"] == f"غير مسموح: \u2066{english}\u2069"
        assert got["text"] == f"غير مسموح: {english}"
        assert got["bdi"] == {"dir": "ltr", "text": english}
    else:
        assert got["message"] == english == got["text"] and got["bdi"] is None
    refused = [p for p in problems if "/api/v1/sites" in p or "403 (FORBIDDEN)" in p]
    assert len(refused) == 2 and problems == refused  # the one refusal asked for, nothing else
    context.close()


def test_the_workspace_writes_its_measures_in_the_pages_digits(
    app: Flask, live: str, browser: Any
) -> None:
    """With ANNOTATOR_ARABIC_DIGITS=arabic-indic the workspace's readouts (Measure, the ruler,
    the placement's ± RMSE) come through figures.js: Arabic-Indic digits, isolated left to
    right, the unit in Arabic after them."""
    app.config["ARABIC_DIGITS"] = "arabic-indic"
    try:
        context, page, problems = page_in(browser, live, "ar")
        open_signed_in(page, live, f"/images/{app.config['TEST_IMAGE_ID']}", "viewer")
        page.wait_for_function("typeof (window.AW || {}).errorText === 'function'")
        shown = page.evaluate(
            "() => [AW.metresText(1234.5), AW.metresText(73.25), AW.distanceText(512.34),"
            " AW.errorText(3.25), AW.errorText(12.4)]"
        )
    finally:
        app.config["ARABIC_DIGITS"] = "latin"
    assert (
        shown[0] == f"\u2066{indic('1.23')}\u2069 كم"
        and shown[1] == f"\u2066{indic('73.3')}\u2069 م"
    )
    assert shown[2] == f"\u2066{indic('512.3')}\u2069 م"
    assert shown[3] in (indic("3.3"), indic("3.2")) and shown[4] == indic("12")
    assert problems == []
    context.close()
