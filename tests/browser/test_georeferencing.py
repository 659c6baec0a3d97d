"""The workspace of an image placed by its RPCs, in Chromium: the info bar says how it was
placed ("placed by RPC, constant height 0 m (...)") and what the vendor's metadata says
(satellite, off-nadir, sun), the tiles of the orthorectified image load, and the console
stays clean. Its screenshot is docs/screenshots/image-georeferencing.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import _app_with_users, make_app
from tests.imagery.test_georef import nitf

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
IMD = """BEGIN_GROUP = IMAGE_1
\tsatId = "WV03";
\tfirstLineTime = 2016-01-29T07:43:57.447349Z;
\tmeanSunAz = 152.6;
\tmeanSunEl = 39.0;
\tmeanOffNadirViewAngle = 14.4;
END_GROUP = IMAGE_1
END;
"""


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("georef-browser")
    for app in _app_with_users(make_app(folder)):
        image = nitf(folder, "scene.ntf")
        (folder / "scene.IMD").write_text(IMD.replace("WV03", "WV03 <b>bold</b>"))
        results = import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(image, image.name)],
            Provenance(),
            max_pixels=10**9,
        )
        with serving(app) as url:
            yield url, results[0].image.id


def test_the_info_bar_says_how_the_image_was_placed(placed: tuple[str, str], browser: Any) -> None:
    url, image_id = placed
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if "/tiles/" in r.url else None)
    with screenshot_on_failure(page, "image-georeferencing"):
        open_signed_in(page, url, f"/images/{image_id}", "viewer")
        page.wait_for_selector("body[data-annotations-shown]", state="attached", timeout=20000)
        page.wait_for_load_state("networkidle")
        placed_text = page.locator(".infobar .georeferencing").inner_text()
        assert placed_text == (
            "placed by RPC, constant height 0 m (no height given, and sites keep no elevation)"
        )
        facts = page.locator(".infobar .acquisition")
        # the vendor's text is shown as text, never as markup
        assert facts.inner_text() == (
            "WV03 <b>bold</b> · off-nadir 14.4° · sun 39.0° high, azimuth 152.6°"
        )
        assert facts.locator("b").count() == 0
        assert "imd, nitf-header" not in facts.inner_text()
        assert tiles and all(status == 200 for status in tiles), tiles
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "image-georeferencing.png"))
    assert problems == [], problems
    page.close()
