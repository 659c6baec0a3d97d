"""The workspace's measure panel in Chromium: on a capture placed by ground control points,
an An-124's sides and area carry "± N m" (the placement's RMSE) and the tolerance says it
is widened by it; on a north-up capture of the same place nothing is added. The console
stays clean. Its screenshot is docs/screenshots/measure-placement-error.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from imagery.georef.placement import metres
from tests.annotator.test_placement_uncertainty import box_on, gcp_geotiff
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import _app_with_users, make_app, token_for, write_geotiff

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The live server, and for each capture (GCP-placed, north-up) an An-124 box on it."""
    folder = tmp_path_factory.mktemp("placement-browser")
    for app in _app_with_users(make_app(folder)):
        found = import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [
                Upload(gcp_geotiff(folder / "gcps.tif", noise_m=2.0), "gcps.tif"),
                Upload(write_geotiff(folder / "north-up.tif"), "north-up.tif"),
            ],
            Provenance(provider="Demo Provider", licence="CC BY 4.0"),
            max_pixels=10**9,
        )
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        client = app.test_client()
        made = {}
        for result in found:
            image = result.image
            answer = client.post("/api/v1/annotations", json=box_on(image.id), headers=headers)
            assert answer.status_code == 201, answer.get_json()
            made[image.original_filename] = {
                "image": image.id,
                "annotation": answer.get_json()["id"],
                "rmse": image.georeferencing.get("rms_m"),
            }
        with serving(app) as url:
            yield {"url": url, **made}


def measured(page: Any, url: str, capture: dict[str, Any], first: bool) -> dict[str, str]:
    """Open the capture's workspace, select its annotation: the measure panel's rows."""
    if first:
        open_signed_in(page, url, f"/images/{capture['image']}", "analyst")
    else:
        page.goto(f"{url}/images/{capture['image']}")
    page.wait_for_selector("body[data-annotations-shown]", state="attached", timeout=20000)
    page.click(f".annotation-list button[data-id='{capture['annotation']}']")
    page.wait_for_selector("#measure-panel[data-measure='current']", state="attached")
    page.wait_for_selector("#size-candidates li")
    names = page.eval_on_selector_all("#measure-values dt", "els => els.map(e => e.textContent)")
    values = page.eval_on_selector_all("#measure-values dd", "els => els.map(e => e.textContent)")
    return dict(zip(names, values, strict=True))


def test_measurements_show_the_placement_error(placed: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    problems = watch_console(page)
    gcps = placed["gcps.tif"]
    error = metres(float(gcps["rmse"]))
    with screenshot_on_failure(page, "measure-placement-error"):
        rows = measured(page, placed["url"], gcps, first=True)
        assert rows["sides"].endswith(f" m ± {error} m"), rows
        assert rows["length \u00d7 span"].endswith(f" m ± {error} m"), rows
        assert " m² ± " in rows["area"], rows
        assert rows["tolerance"].endswith(f"+ placement RMSE {error} m)"), rows
        assert rows["placement"].startswith(f"RMSE {error} m"), rows
        # the An-124 still ranks first, the tolerance widened by the RMSE
        first = page.locator("#size-candidates button").first
        assert first.get_attribute("data-label") == "aircraft.transport.an-124"
        page.locator("#measure-panel").scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "measure-placement-error.png"))
        # a north-up capture of the same place: nothing added
        rows = measured(page, placed["url"], placed["north-up.tif"], first=False)
        assert "placement" not in rows and "±" not in rows["sides"] + rows["area"], rows
        assert rows["tolerance"].endswith(" m (2 px at 0.5 m)"), rows
    assert problems == [], problems
    page.close()
