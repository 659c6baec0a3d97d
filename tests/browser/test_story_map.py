"""The standalone story map opened from a file in Debian's Chromium: no request at all, the
imagery and the annotations drawn, the popup's markup shown as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from annotations.newsroom.story_map import story_map_csp, story_map_html
from tests.story import HOSTILE, ingest_scene, make_evidence, two_captures


@pytest.mark.browser
def test_map_from_a_file_makes_no_request_and_shows_escaped_popups(
    browser: Any, tmp_path: Path
) -> None:
    evidence = make_evidence(two_captures(tmp_path), hostile=True)
    path = tmp_path / "story-map.html"
    path.write_text(story_map_html(evidence), encoding="utf-8")
    url = path.as_uri()
    page = browser.new_page(viewport={"width": 1100, "height": 750})
    requests: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(url)
        page.wait_for_selector("img.leaflet-image-layer", state="attached")
        page.wait_for_selector("path.leaflet-interactive")
        overlays = page.eval_on_selector_all(
            "img.leaflet-image-layer", "els => els.map(e => [e.src.slice(0, 16), e.complete])"
        )
        assert overlays == [["data:image/webp;", True]] * 2
        outlines = page.locator("path.leaflet-interactive")
        assert outlines.count() == len(evidence.annotations)
        colours = {outlines.nth(i).get_attribute("stroke") for i in range(outlines.count())}
        assert colours == {"#06b6d4"}
        # the first An-124 of 2024-12-13 (drawn last, so on top): its popup shows the markup
        page.locator("path.leaflet-interactive").nth(1).click()
        popup = page.wait_for_selector(".leaflet-popup-content")
        assert popup is not None
        text = " ".join(popup.inner_text().split())
        assert HOSTILE in text and "Supports" in text
        assert (
            page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
        )
        legend = page.inner_text(".story-panel")
        assert f"Antonov An-124 Ruslan{HOSTILE}" in legend and "CC BY 4.0" in legend
        assert page.locator(".story-panel img, .story-panel script").count() == 0
        attribution = page.inner_text(".leaflet-control-attribution")
        assert "Demo Provider" in attribution
        assert page.locator(".leaflet-control-scale-line").first.inner_text().endswith("m")
        layer_names = page.inner_text(".leaflet-control-layers")
        assert "Image 2024-12-10 08:21 UTC" in layer_names
        assert "Image 2024-12-13 08:21 UTC" in layer_names
    except Exception:
        page.screenshot(path=str(tmp_path / "story-map-failure.png"))
        raise
    finally:
        page.close()
    outside = [r for r in requests if r != url and not r.startswith("data:")]
    assert outside == [], f"the map made requests: {outside}"
    assert dialogs == [] and errors == []


@pytest.mark.browser
def test_map_runs_under_its_own_strict_content_security_policy(
    browser: Any, make_geotiff: Any, tmp_path: Path
) -> None:
    """Served (here by Playwright itself, no socket) with `story_map_csp`: scripts allowed only
    by hash, no connection anywhere; the map still draws and nothing is blocked."""
    evidence = make_evidence([ingest_scene(make_geotiff, tmp_path / "store")], hostile=True)
    html = story_map_html(evidence)
    address = "https://embed.invalid/story-map"
    page = browser.new_page(viewport={"width": 900, "height": 600})
    served: list[str] = []
    console: list[str] = []

    def serve(route: Any) -> None:
        served.append(route.request.url)
        if route.request.url == address:
            headers = {"Content-Type": "text/html; charset=utf-8",
                       "Content-Security-Policy": story_map_csp(html)}  # fmt: skip
            route.fulfill(status=200, headers=headers, body=html)
        else:
            route.abort()

    page.route("**/*", serve)
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(address)
        page.wait_for_selector("img.leaflet-image-layer", state="attached")
        assert page.locator("path.leaflet-interactive").count() == 2
        page.locator("path.leaflet-interactive").first.click()
        assert HOSTILE in page.inner_text(".leaflet-popup-content")
    except Exception:
        page.screenshot(path=str(tmp_path / "story-map-csp-failure.png"))
        raise
    finally:
        page.close()
    assert served == [address]
    assert not [line for line in console if "Content Security Policy" in line], console


#: the boxes of two elements overlap (DOMRects as dicts)
OVERLAP = """([a, b]) => {
  const r = document.querySelector(a).getBoundingClientRect();
  const s = document.querySelector(b).getBoundingClientRect();
  return !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
}"""


@pytest.mark.browser
def test_the_embed_is_readable_in_an_800_by_500_iframe(
    browser: Any, make_geotiff: Any, tmp_path: Path
) -> None:
    """In a newsroom's 800 x 500 iframe the legend and the layer list start folded (and
    unfold on a click) and the credits clear the scale bar; on a big screen they start open."""
    evidence = make_evidence(two_captures(tmp_path), hostile=True)
    html = story_map_html(evidence)
    address, host = "https://embed.invalid/story-map", "https://news.invalid/story"
    article = f'<p>The story</p><iframe src="{address}" width="800" height="500"></iframe>'
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []

    def serve(route: Any) -> None:
        if route.request.url == address:
            headers = {"Content-Type": "text/html; charset=utf-8",
                       "Content-Security-Policy": story_map_csp(html)}  # fmt: skip
            route.fulfill(status=200, headers=headers, body=html)
        elif route.request.url == host:
            route.fulfill(status=200, headers={"Content-Type": "text/html"}, body=article)
        else:
            route.abort()

    page.route("**/*", serve)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(host)
        frame = page.frame_locator("iframe")
        frame.locator("path.leaflet-interactive").first.wait_for()
        embed = next(f for f in page.frames if f.url == address)
        assert embed.evaluate("window.innerWidth") == 800
        assert embed.eval_on_selector(".story-details", "e => e.open") is False
        assert embed.locator(".leaflet-control-layers-expanded").count() == 0
        assert not embed.evaluate(
            OVERLAP, [".leaflet-control-scale", ".leaflet-control-attribution"]
        )
        assert not embed.evaluate(OVERLAP, [".leaflet-control-scale", ".story-panel"])
        embed.click(".story-details > summary")
        assert embed.eval_on_selector(".story-details", "e => e.open") is True
        assert "Antonov An-124 Ruslan" in embed.inner_text(".story-legend")

        page.goto(address)  # the same map on a big screen: everything open
        page.locator("path.leaflet-interactive").first.wait_for()
        assert page.eval_on_selector(".story-details", "e => e.open") is True
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        assert not page.evaluate(
            OVERLAP, [".leaflet-control-scale", ".leaflet-control-attribution"]
        )
    except Exception:
        page.screenshot(path=str(tmp_path / "story-map-iframe-failure.png"))
        raise
    finally:
        page.close()
    assert errors == []
