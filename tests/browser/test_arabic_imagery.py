"""The Jobs page and the control-point editor in Arabic, in Chromium (issue 16), after their
scripts ran: the Jobs table of an admin (everyone's jobs: an ingest done, one cancelled by the
admin before it started, an analyst's export done) and the editor with three pairs placed
(their residuals, the RMSE line, the methods) show no English interface word in what a
reader sees (text, title, aria-label, placeholder; a user's or a file's name in its <bdi>,
figures marked left to right, and the server's own English in an English <bdi> are data);
the maps stay left to right; the console stays clean and no request fails. Screenshots at
1366 x 768: docs/screenshots/ar/jobs.png and georeference-editor.png."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask import Flask
from playwright.sync_api import expect

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from annotator.language.gis import placement_words
from annotator.upload.api import chunks
from tests.annotator.test_language import KEPT
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.browser.test_georeference_editor import click_on, pairs
from tests.conftest import ROOT, _app_with_users, make_app, token_for, write_geotiff
from tests.jobs import consuming, wait_for_job
from tests.press_pictures import Press, capture, press_picture

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1366, "height": 768}
PIXELS = [(80.0, 60.0), (440.0, 70.0), (420.0, 330.0)]
PICTURE = "صورة صحفية.jpg"
SCREENSHOTS = ROOT / "docs" / "screenshots" / "ar"
#: imagery's sentences of how an image was placed (imagery/georef)
PLACED = (
    "placed by 6 control points, RMSE 3.2 m",
    "placed by 12 control points, a thin plate spline exact at each (no RMSE)",
    "GCP polynomial 2, RMS 0.41 m (10 points)",
    "GCP thin plate spline, exact at its 14 points (RMS 0 m)",
    "RPC, constant height 120 m",
    "rotated geotransform, warped north-up",
)
#: kept in Latin letters in Arabic too (docs/glossary-ar.md), as the workspace's readouts do
ABBREVIATIONS = {"RMSE"}

#: the words a reader sees once the scripts ran, as english_left (tests/annotator/
#: test_language.py) reads them in the served HTML: visible text outside script, style, code,
#: kbd, svg, <bdi> (data), dir="ltr" (figures, addresses, the maps) and lang="en" (the
#: server's own words), with the title, aria-label, placeholder and alt of every element
WORDS = """() => {
  const SKIPPED = "script, style, code, kbd, svg, bdi, noscript, [dir=ltr], [lang=en]";
  const words = [];
  const add = (text) => words.push(...(String(text).match(/[A-Za-z]{2,}/g) || []));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(SKIPPED)) continue;
    if (parent.tagName !== "OPTION" && !parent.checkVisibility()) continue;
    add(walker.currentNode.textContent);
  }
  const named = "[title], [aria-label], [placeholder], [alt]";
  for (const element of document.body.querySelectorAll(named)) {
    if (element.closest("[dir=ltr]")) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      if (element.hasAttribute(name)) add(element.getAttribute(name));
    }
  }
  add(document.title);
  return [...new Set(words)].sort();
}"""


def english_seen(page: Any, *users_text: str) -> list[str]:
    """The English words left, less the KEPT names and the words of `users_text` (names a
    page shows where no <bdi> can mark them, as in an <option> or the <title>)."""
    data = {word for text in users_text for word in text.replace(".", " ").split()}
    return sorted(set(page.evaluate(WORDS)) - KEPT - ABBREVIATIONS - data)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str, Press, str]]:
    """A site and its capture named in Arabic, an analyst's finished upload of a press
    picture, and jobs of the admin (an ingest done, one cancelled before it started) and of
    the analyst (an export done). Yields the app, its URL, the picture, the upload's id."""
    folder = tmp_path_factory.mktemp("arabic-imagery")
    for app in _app_with_users(make_app(folder)):
        admin = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
        analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        client = app.test_client()
        site = {"name": "قاعدة حميميم الجوية", "lon": 35.9465, "lat": 35.411, "slug": "hm"}
        assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
        known = capture(folder / "مرجع.tif")
        import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(known, "لقطة مرجعية.tif")],
            Provenance(provider="مزوّد الصور"),
            sites=("hm",),
            max_pixels=10**9,
        )
        press = press_picture(known, folder / "press.jpg")
        picture = press.path.read_bytes()
        with app.test_request_context():
            store = chunks()
            upload = store.start("analyst", PICTURE, len(picture))
        (store.root / upload.id / "data").write_bytes(picture)  # all of it arrived

        scene = write_geotiff(folder / "scene.tif", np.full((3, 40, 50), 90, dtype=np.uint8))
        cancelled, done = (
            started(client.post(
                "/api/v1/images?async=1",
                headers=admin,
                data={"file": (io.BytesIO(scene.read_bytes()), name)},
            ))
            for name in ("مشهد ملغى.tif", "مشهد.tif")
        )  # fmt: skip
        stopped = client.delete(f"/api/v1/jobs/{cancelled}", headers=admin)
        assert stopped.status_code == 200 and stopped.get_json()["status"] == "cancelled"
        export = client.get("/api/v1/exports?format=geojson&async=1", headers=analyst)
        assert export.status_code == 202, export.get_json()
        with consuming(app):
            assert wait_for_job(client, admin, done)["status"] == "done"
            assert wait_for_job(client, analyst, export.get_json()["id"])["status"] == "done"
        with serving(app) as url:
            yield app, url, press, str(upload.id)


def started(answer: Any) -> str:
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def in_arabic(page: Any) -> None:
    """The switcher to Arabic (kept as the user's setting: a later sign-in is in Arabic)."""
    if page.locator("html").get_attribute("lang") == "ar":
        return
    page.click(".language-switch button[value=ar]")
    page.wait_for_selector("html[lang=ar][dir=rtl]")
    page.wait_for_load_state("networkidle")  # the page's own requests end before the next


def test_the_jobs_page_in_arabic_after_its_scripts_ran(
    world: tuple[Flask, str, Press, str], browser: Any
) -> None:
    _, url, _, _ = world
    page = browser.new_page(viewport=VIEWPORT)
    problems = watch_console(page)
    with screenshot_on_failure(page, "jobs-arabic"):
        open_signed_in(page, url, "/jobs", "admin")
        in_arabic(page)
        page.wait_for_selector("#jobs[data-loaded]", state="attached")
        rows = page.locator("#jobs-list tr.job")
        expect(rows).to_have_count(3)
        statuses = sorted(rows.locator("td.job-status").all_inner_texts())
        assert statuses == sorted(["اكتملت", "اكتملت", "أُلغيت"]), statuses
        kinds = sorted(rows.locator("td.job-kind").all_inner_texts())
        assert kinds == sorted(["إدخال", "إدخال", "تصدير"]), kinds
        cancelled = page.locator("#jobs-list tr[data-status=cancelled] td.job-result")
        assert cancelled.inner_text() == "ألغاها admin قبل أن تبدأ"  # the name in its <bdi>
        assert cancelled.locator("bdi").inner_text() == "admin"
        label = page.locator("#jobs-list tr[data-status=done] .job-progress-label").first
        assert label.inner_text().replace("\u200e", "") == "100% · اكتملت"  # less LRMs
        assert "ملف analyst" in page.locator("#jobs-list").inner_text()  # the analyst's export
        assert page.locator("h1").inner_text() == "المهام"
        assert english_seen(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "jobs.png"))
    page.close()
    assert problems == [], problems


def test_the_control_point_editor_in_arabic_after_its_scripts_ran(
    world: tuple[Flask, str, Press, str], browser: Any
) -> None:
    app, url, press, upload = world
    page = browser.new_page(viewport=VIEWPORT)
    problems = watch_console(page)
    with screenshot_on_failure(page, "georeference-arabic"):
        open_signed_in(page, url, "/", "analyst")
        in_arabic(page)
        page.goto(f"{url}/images/georeference/{upload}")
        page.wait_for_selector("body[data-georef-ready]", state="attached")
        for side in ("#georef-picture", "#georef-reference-map"):
            assert page.locator(side).get_attribute("dir") == "ltr"
        assert page.locator("#georef-state").inner_text() == "عدد الأزواج: 0."
        for number, (col, row) in enumerate(PIXELS, 1):
            click_on(page, "picture", col, row)
            expect(page.locator("#georef-state")).to_have_text(
                "انقر الآن النقطة نفسها على المرجع (Esc يلغي)."
            )
            click_on(page, "reference", *press.truth(col, row))
            expect(pairs(page)).to_have_count(number)
        rmse = page.locator("#georef-rmse")
        page.wait_for_function("() => document.querySelector('#georef-rmse').dataset.rmse")
        assert rmse.inner_text().startswith("RMSE ") and "م · الأسوأ: رقم " in rmse.inner_text()
        expect(pairs(page).locator(".residual").first).to_contain_text(" م")
        assert pairs(page).first.locator("button").get_attribute("aria-label") == "حذف النقطة 1"
        options = page.locator("#georef-method option").all_inner_texts()
        assert options[0] == "أفيني (3 نقاط أو أكثر)"
        # the picture's file name is data, in the <title> where no <bdi> can mark it
        assert english_seen(page, PICTURE) == []
        # how an image was placed reads the same in scripts (jobs/words.js) as on the pages
        source = page.locator("script[src*='georeference/editor.js']").get_attribute("src")
        words = (source or "").replace("georeference/editor.js", "jobs/words.js")
        for sentence in PLACED:
            shown = page.evaluate(
                "([url, text]) => import(url).then((m) => m.placementNode(text).textContent)",
                [words, sentence],
            )
            with app.test_request_context("/", headers={"Accept-Language": "ar"}):
                assert shown == placement_words(sentence), sentence
        page.screenshot(path=str(SCREENSHOTS / "georeference-editor.png"))
    page.close()
    assert problems == [], problems


def test_the_compare_view_in_arabic_after_its_script_ran(
    world: tuple[Flask, str, Press, str], browser: Any
) -> None:
    """Two captures side by side, an analyst's annotation (notes in Arabic) on the left one:
    its popup (status, confidence, author, "Still there on") and both lists read in Arabic,
    the names in <bdi>."""
    app, url, _, _ = world
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    images = client.get("/api/v1/images", headers=headers).get_json()["images"]
    ids = {image["original_filename"]: image["id"] for image in images}
    left, right = ids["لقطة مرجعية.tif"], ids["مشهد.tif"]
    image = client.get(f"/api/v1/images/{left}", headers=headers).get_json()
    centre = np.mean(image["footprint"]["coordinates"][0][:-1], axis=0).tolist()
    label = client.get("/api/v1/labels", headers=headers).get_json()
    label_id = (label["labels"] if isinstance(label, dict) else label)[0]["id"]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": centre},
        "properties": {"image_id": left, "label": label_id, "notes": "قرب المدرج"},
    }
    assert client.post("/api/v1/annotations", json=feature, headers=headers).status_code == 201
    page = browser.new_page(viewport=VIEWPORT)
    problems = watch_console(page)
    with screenshot_on_failure(page, "compare-arabic"):
        open_signed_in(page, url, "/", "analyst")
        in_arabic(page)
        page.goto(f"{url}/compare?left={left}&right={right}&mode=side")
        page.wait_for_selector("body[data-left-annotations=loaded]", state="attached")
        page.wait_for_selector("body[data-right-annotations=loaded]", state="attached")
        assert page.locator("#map-left").get_attribute("aria-label") == "اللقطة اليسرى"
        assert page.locator(".compare-maps").get_attribute("dir") == "ltr"
        assert page.locator("#left-count").inner_text() == "تعليق توضيحي واحد"
        page.locator("path.annotation-left").first.click(force=True)
        popup = page.wait_for_selector(".annotation-popup")
        assert "بواسطة analyst" in popup.inner_text()
        copy = page.locator(".annotation-popup button.copy-to-other")
        assert copy.inner_text().startswith("ما زال موجودًا في ")
        page.click(".compare-list summary")
        assert english_seen(page) == []
    page.close()
    assert problems == [], problems
