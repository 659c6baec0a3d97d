"""The control-point editor in Chromium (issue 14 item 2): a press picture made from a known
capture (cut, rotated 17°, enlarged 1.3 times, a caption band, JPEG) is dropped in a site's Add
imagery panel, which offers to place it; the editor pairs 4 points clicked at known picture
pixels and their true ground positions, shows each residual and the RMSE, warps a preview
over the capture (its opacity slider moves it), deletes, undoes and cancels with the keys,
saves, follows the job to the link of the new capture, whose footprint is the truth's; an
An-124 on it measures 69 x 73 m ± the RMSE and ranks An-124 first; the capture's page then
opens the editor on its points, and saving again makes version 2. The console stays clean.
Screenshot: docs/screenshots/georeference-editor.png."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from shapely.geometry import Polygon, mapping, shape

from annotations.catalogue.images import Provenance
from annotations.measure import box_polygon
from annotator import services
from annotator.intake import Upload, import_images
from annotator.upload.api import chunks
from tests.browser.conftest import open_signed_in, serving
from tests.browser.screens import screenshot_on_failure, watch_console
from tests.conftest import ROOT, _app_with_users, make_app, token_for
from tests.jobs import consuming
from tests.press_pictures import Press, capture, gps_exif, press_picture

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOT = ROOT / "docs" / "screenshots" / "georeference-editor.png"
#: picture pixels clicked (in the picture's body, away from the caption band)
NUMBER = re.compile(r"^\d+(\.\d+)?(e-?\d+)?$")
PIXELS = [(80.0, 60.0), (440.0, 70.0), (420.0, 330.0), (100.0, 350.0)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str, Press, str]]:
    folder = tmp_path_factory.mktemp("georeference-editor")
    for app in _app_with_users(make_app(folder)):
        headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        site = {"name": "Hmeimim <b>air base</b>", "lon": 35.9465, "lat": 35.411, "slug": "hm"}
        response = app.test_client().post("/api/v1/sites", json=site, headers=headers)
        assert response.status_code == 201, response.get_json()
        known = capture(folder / "capture.tif")
        made = import_images(
            services.database(app),
            app.config["IMAGES_DIR"],
            [Upload(known, "capture.tif")],
            Provenance(),
            sites=("hm",),
            max_pixels=10**9,
        )
        press = press_picture(known, folder / "press.jpg", exif=gps_exif())
        with serving(app) as url:
            yield app, url, press, made[0].image.id


def drop(page: Any, selector: str, path: Path) -> None:
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([name, data]) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
          return transfer;
        }""",
        [path.name, data],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def click_on(page: Any, side: str, a: float, b: float) -> None:
    """Click the picture at pixel (a, b), or the reference at (lon a, lat b)."""
    x, y = page.evaluate(
        """([side, a, b]) => {
          const map = window.georefMaps[side];
          const at = side === "picture" ? [-b, a] : [b, a];
          const point = map.latLngToContainerPoint(at);
          const box = map.getContainer().getBoundingClientRect();
          return [box.left + point.x, box.top + point.y];
        }""",
        [side, a, b],
    )
    page.mouse.click(x, y)


def pairs(page: Any) -> Any:
    return page.locator("#georef-points tr")


def test_place_a_press_picture_by_control_points(
    world: tuple[Flask, str, Press, str], browser: Any
) -> None:
    app, url, press, reference = world
    page = browser.new_page(viewport=VIEWPORT)
    problems = watch_console(page)
    with screenshot_on_failure(page, "georeference-editor"), consuming(app):
        open_signed_in(page, url, "/sites/hm", "analyst")
        page.click("#add-imagery summary")
        page.wait_for_selector("#add-imagery[data-ready]", state="attached")
        drop(page, "#add-drop", press.path)
        page.click("#add-list .add-place")  # offered once the upload is complete
        page.wait_for_selector("body[data-georef-ready]", state="attached")
        assert page.url.startswith(f"{url}/images/georeference/")
        expect(page.locator("body")).to_have_attribute("data-georef-reference", reference)
        shown = page.locator("#georef-picture img.leaflet-image-layer")
        served = page.request.get(url + (shown.get_attribute("src") or "")).body()
        assert served[:2] == b"\xff\xd8"  # a JPEG, re-encoded from the pixels alone:
        for secret in (b"Ana Author-Secret", b"SecretCam", b"Exif"):  # no EXIF at all
            assert secret not in served

        # a half pair, cancelled with Escape
        click_on(page, "picture", 250, 200)
        expect(page.locator("#georef-picture .georef-marker.pending")).to_have_count(1)
        page.keyboard.press("Escape")
        expect(page.locator(".georef-marker.pending")).to_have_count(0)

        for number, (col, row) in enumerate(PIXELS, 1):
            click_on(page, "picture", col, row)
            click_on(page, "reference", *press.truth(col, row))
            expect(pairs(page)).to_have_count(number)
        assert page.locator("#georef-method option[value=polynomial]").is_disabled()
        rmse = page.locator("#georef-rmse")
        expect(rmse).to_have_attribute("data-rmse", NUMBER)
        assert float(rmse.get_attribute("data-rmse") or "nan") < 2.0, rmse.inner_text()
        expect(pairs(page).locator(".residual").first).to_contain_text(" m")
        expect(page.locator("#georef-points tr.worst")).to_have_count(1)
        expect(page.locator("#georef-picture .georef-marker.worst")).to_have_count(1)

        # a fifth pair, deleted with the Delete key (renumbered), back with Ctrl+Z, then
        # deleted with its row's button
        click_on(page, "picture", 260, 200)
        click_on(page, "reference", *press.truth(300, 200))  # a poor match
        expect(pairs(page)).to_have_count(5)
        page.keyboard.press("Delete")
        expect(pairs(page)).to_have_count(4)
        page.keyboard.press("Control+z")
        expect(pairs(page)).to_have_count(5)
        pairs(page).nth(4).locator(".georef-delete").click()
        expect(pairs(page)).to_have_count(4)
        expect(page.locator("#georef-picture .georef-marker")).to_have_count(4)

        # the preview over the reference, its opacity moved
        reference_map = page.locator("#georef-reference-map")
        expect(reference_map).to_have_attribute("data-preview", "shown")
        page.fill("#georef-opacity", "0.3")
        overlay = reference_map.locator("img.leaflet-image-layer")
        expect(overlay).to_have_css("opacity", "0.3")
        expect(rmse).to_have_attribute("data-rmse", NUMBER)
        page.fill("#georef-source-url", "https://news.example/<article>")
        page.fill("#georef-credit", "Satellite image ©2024 <b>Synthetic</b>")
        page.wait_for_load_state("networkidle")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        page.click("#georef-save")
        link = page.locator("#georef-capture")
        expect(link).to_be_visible(timeout=60_000)
        expect(page.locator("#georef-job .job-progress")).to_have_attribute("data-status", "done")
        image_id = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token_for(app, 'viewer')}"}
        image = client.get(f"/api/v1/images/{image_id}", headers=headers).get_json()
        corners = [(0, 0), (press.width, 0), (press.width, press.height), (0, press.height)]
        truth = Polygon([press.truth(c, r) for c, r in corners])
        found = shape(image["footprint"])
        assert truth.intersection(found).area / truth.union(found).area >= 0.95
        placed = client.get(f"/api/v1/images/{image_id}/georeference", headers=headers)
        facts = placed.get_json()["placement"]
        assert facts["source_url"] == "https://news.example/<article>"
        assert facts["credit"] == "Satellite image ©2024 <b>Synthetic</b>"
        assert facts["captured"] == "unknown" and len(facts["gcps"]) == 4

        # an An-124 (69 x 73 m) on the placed capture measures so, ± the RMSE, and ranks first
        lon, lat = press.truth(press.width / 2, (press.height - 40) / 2)
        plane = box_polygon(lon, lat, length_m=69, width_m=73, heading_deg=30)
        feature = {
            "type": "Feature",
            "geometry": mapping(plane),
            "properties": {"label": "aircraft.transport.an-124", "image_id": image_id},
        }
        analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
        made = client.post("/api/v1/annotations", json=feature, headers=analyst)
        assert made.status_code == 201, made.get_json()
        page.wait_for_load_state("networkidle")
        link.click()
        page.wait_for_selector("body[data-annotations-shown]", state="attached")
        page.click(f".annotation-list button[data-id='{made.get_json()['id']}']")
        page.wait_for_selector("#measure-panel[data-measure='current']", state="attached")
        page.wait_for_selector("#size-candidates li")
        sides = page.locator("#measure-values dt:text-is('sides') + dd").inner_text()
        assert re.fullmatch(r"(69|73)\.\d \u00d7 (69|73)\.\d m ± 0\.\d+ m", sides), sides
        first = page.locator("#size-candidates button").first
        assert first.get_attribute("data-label") == "aircraft.transport.an-124"
        # the capture's page opens the editor on its points; saving again is version 2
        page.wait_for_load_state("networkidle")  # leaving sooner cuts the tiles off
        page.click("#edit-control-points")
        page.wait_for_selector("body[data-georef-ready]", state="attached")
        expect(pairs(page)).to_have_count(4)
        expect(page.locator("#georef-versions li")).to_have_count(1)
        expect(page.locator("#georef-credit")).to_have_text(facts["credit"])
        expect(rmse).to_have_attribute("data-rmse", NUMBER)
        expect(page.locator("#georef-reference-map")).to_have_attribute("data-preview", "shown")
        # point 1 dragged on the picture: moved, fitted again
        first = pairs(page).nth(0).locator("td").nth(1)
        before = first.inner_text()
        box = page.locator("#georef-picture .georef-marker").nth(0).bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 6, y + 4, steps=4)
        page.mouse.up()
        expect(first).not_to_have_text(before)
        expect(rmse).to_have_attribute("data-rmse", NUMBER)
        # the site's outline as the reference, where a site has no capture
        page.wait_for_load_state("networkidle")
        page.select_option("#georef-reference", "")
        expect(page.locator("body")).to_have_attribute("data-georef-reference", "outline")
        expect(page.locator("#georef-reference-map svg path")).to_have_count(1)
        page.click("#georef-save")
        expect(page.locator("#georef-capture")).to_be_visible(timeout=60_000)
        expect(page.locator("#georef-versions li")).to_have_count(2)
    assert problems == [], problems
    page.close()


def test_the_editor_is_for_the_uploads_owner_and_analysts(
    world: tuple[Flask, str, Press, str],
) -> None:
    app = world[0]
    client = app.test_client()
    picture = world[2].path.read_bytes()
    with app.test_request_context():
        store = chunks()
        half = store.start("analyst", "half.jpg", len(picture))
        whole = store.start("analyst", "whole.jpg", len(picture))
    (store.root / whole.id / "data").write_bytes(picture)  # all of it arrived
    for user, status in (("viewer", 403), ("editor", 404), ("analyst", 200)):
        headers = {"Authorization": f"Bearer {token_for(app, user)}"}
        # another's upload is none to the editor
        for path in (
            f"/images/georeference/{whole.id}",
            f"/api/v1/georeference/picture/{whole.id}",
        ):
            assert client.get(path, headers=headers).status_code == status, (user, path)
    # an upload not complete yet has nothing to place
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    assert client.get(f"/images/georeference/{half.id}", headers=headers).status_code == 404
