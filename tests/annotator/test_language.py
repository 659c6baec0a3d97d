"""The interface in Arabic (issue 16): every marked string has its Arabic, the converted pages
leave no English interface word, the language follows the user's setting, then the cookie,
then Accept-Language, then ANNOTATOR_DEFAULT_LANGUAGE, and the scripts get their catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.app import create_app
from annotator.config import ConfigError, from_environment
from annotator.intake import Upload, import_images
from annotator.language.choice import chosen
from annotator.language.formats import ARABIC_INDIC, moment, number
from tests.conftest import _app_with_users, _csrf_from, login, make_app, write_geotiff

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "annotator/translations/ar/LC_MESSAGES/messages.po"
#: the templates whose interface is in Arabic; the test below renders each of them
CONVERTED = (
    "base.html",
    "_language.html",
    "login.html",
    "home.html",
    # the newsroom's pages (tests/annotator/test_language_newsroom.py renders them)
    "reports.html",
    "report_form.html",
    "withdrawn.html",
    "events.html",
    "event.html",
    "event_form.html",
    "inbox.html",
    "_site_chart.html",
    "site_form.html",
    "keys.html",
    "_image_card.html",
    "site.html",
    "_export.html",
    "_ogcapi_link.html",
    "_activity.html",
    "error.html",
    "_add_imagery.html",
    "review.html",
    "report.html",
    "_picker.html",
    "_report_status.html",
    "image.html",
    "_imagery_tools.html",
    "_duplicates.html",
    "_annotation_discussion.html",
    "_link_to_report.html",
    "jobs.html",
    "import.html",
    "_import_job.html",
    "_story_job.html",
    "_add_by_url.html",
    "_georeferencing.html",
    "georeference.html",
    "compare.html",
    "ogcapi.html",
    "api_docs.html",
    "_site_map.html",
    "_figure_caption.html",
)
#: Latin words an Arabic page may keep: the app's and other software's names, file formats
#: and their parts, standards, and the time zone
KEPT = {"annotator", "QGIS", "OGC", "API", "Features", "UTC", "English", "tif"}
KEPT |= {"COCO", "CSV", "FlatGeobuf", "GeoJSON", "GeoPackage", "GeoParquet", "JSON", "KML"}
KEPT |= {"KMZ", "PNG", "RFC", "STAC", "Shapefile", "TimeStamp", "WKB", "WKT", "YOLO", "bbox"}
KEPT |= {"shp", "prj", "cpg", "qml", "fields", "txt", "GeoTIFF", "RPC", "DMS", "MGRS", "SVG"}
KEPT |= {"Ctrl", "Shift", "Enter", "Del", "Esc"}  # the keys' names
KEPT |= {"hmeimim", "il"}  # the site's slug in a link, and "il" typed in the label search
SITE_NAME = "قاعدة حميميم"
REPORT_TEXT = "هبطت طائرة نقل ثقيلة في القاعدة صباح الثالث عشر من كانون الأول."
PROVIDER = "مزوّد الصور"


def arabic() -> dict[str, str]:
    with CATALOGUE.open("rb") as source:
        catalog = read_po(source, locale="ar")
    found = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else message.string
        found[key] = "" if message.fuzzy or not all(strings) else strings[0]
    return found


def test_every_marked_string_has_its_arabic() -> None:
    """The strings babel.cfg extracts (templates, scripts' t("..."), annotator/language) are
    all in the Arabic catalogue, translated and not fuzzy: a new string fails here until
    `make messages` has brought it in and someone has written its Arabic."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "t": None}
    catalogue = arabic()
    used: dict[str, str] = {}
    marked: set[str] = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        used[message if isinstance(message, str) else message[0]] = filename
        marked.add(Path(filename).name)
    assert used, "nothing was extracted: is babel.cfg read?"
    missing = sorted(
        f"{where}: {text!r}" for text, where in used.items() if not catalogue.get(text)
    )
    advice = "untranslated (run `make messages`, then translate):\n"
    assert not missing, advice + "\n".join(missing)
    assert set(CONVERTED) <= marked


#: templates with no words of their own (data attributes for scripts, and includes)
WORDLESS = ("_report_discussion.html",)


def test_every_template_is_in_arabic() -> None:
    """Every template is converted (its strings marked, its page rendered in Arabic by a test
    here, in test_language_newsroom.py or test_language_imagery.py) or has no words at all: a
    new template fails here until it is one or the other."""
    templates = {path.name for path in (ROOT / "templates").glob("*.html")}
    assert templates - set(CONVERTED) - set(WORDLESS) == set()
    assert set(CONVERTED) | set(WORDLESS) <= templates  # no name kept after its file went
    for name in WORDLESS:
        source = (ROOT / "templates" / name).read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<[^>]*>", " ", source, flags=re.S)
        assert re.findall(r"[A-Za-z]{2,}", text) == [], name


class Words(HTMLParser):
    """The words a reader sees: text (not in script, style or code, nor marked dir="ltr" as
    coordinates and addresses are, nor user text in <bdi>) and the title, alt, placeholder and
    aria-label."""

    SKIPPED = frozenset({"script", "style", "code", "kbd", "svg", "bdi"})  # bdi: user text
    VOID = frozenset({"input", "img", "br", "hr", "meta", "link", "source", "wbr", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("title", "alt", "placeholder", "aria-label"):
            if found.get(name) and found.get("dir") != "ltr":
                self.words += re.findall(r"[A-Za-z]{2,}", str(found[name]))
        if tag in self.VOID:
            return
        skipped = tag in self.SKIPPED or found.get("dir") == "ltr" or found.get("lang") == "en"
        if skipped or (self.skipping and tag == self.skipping[-1]):
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.words += re.findall(r"[A-Za-z]{2,}", data)


def english_left(html: str) -> list[str]:
    parser = Words()
    parser.feed(html)
    return sorted(set(parser.words) - KEPT)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module: users of every role, a site with an Arabic name and a small
    capture from an Arabic-named provider (so any Latin word on its pages is the app's)."""
    folder = tmp_path_factory.mktemp("language")
    for application in _app_with_users(make_app(folder)):
        client = application.test_client()
        login(client, "admin")
        token = _csrf_from(client.get("/").get_data(as_text=True))
        made = client.post(
            "/api/v1/sites",
            json={"name": SITE_NAME, "slug": "hmeimim", "lon": 35.94, "lat": 35.41},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201, made.get_json()
        data = np.random.default_rng(3).integers(1, 255, (3, 64, 64), dtype=np.uint8)
        tiff = write_geotiff(folder / "لقطة.tif", data)
        import_images(
            services.database(application),
            application.config["IMAGES_DIR"],
            [Upload(tiff, "لقطة.tif")],
            Provenance(provider=PROVIDER),
            sites=("hmeimim",),
            max_pixels=10**9,
        )
        report = client.post(
            "/api/v1/reports",
            json={"title": "طائرة نقل في القاعدة", "text": REPORT_TEXT, "authors": ["ر. خليل"]},
            headers={"X-CSRF-Token": token},
        )
        assert report.status_code == 201, report.get_json()
        application.config["TEST_REPORT"] = report.get_json()["id"]
        claim = client.post(
            f"/api/v1/reports/{report.get_json()['id']}/claims",
            json={"exact": "هبطت طائرة نقل"},
            headers={"X-CSRF-Token": token},
        )
        assert claim.status_code == 201, claim.get_json()
        yield application


def switch(client: FlaskClient, language: str, token: str | None = None) -> None:
    form = {"language": language, "next": "/"}
    if token:
        form["csrf_token"] = token
    response = client.post("/language", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == "/"


def test_the_converted_pages_in_arabic_leave_no_english(app: Flask) -> None:
    client = app.test_client()
    switch(client, "ar")  # signed out: a cookie keeps it
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert english_left(page) == []
    token = login(client, "analyst")  # who sees the most: "Add imagery" too
    report = f"/reports/{app.config['TEST_REPORT']}"
    found = re.search(r'data-image-id="(\w+)"', client.get("/sites/hmeimim").get_data(as_text=True))
    assert found is not None
    workspace = f"/images/{found[1]}"
    for path in ("/", "/sites/hmeimim", "/review", report, workspace, "/no-such-page"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html, path
        assert SITE_NAME in html or path in ("/review", report, workspace, "/no-such-page")
        assert english_left(html) == [], path
    assert token


def test_a_page_in_arabic_keeps_the_map_left_to_right(app: Flask) -> None:
    client = app.test_client()
    login(client, "analyst")
    switch(client, "ar", _csrf_from(client.get("/").get_data(as_text=True)))
    site = client.get("/sites/hmeimim").get_data(as_text=True)
    image_id = re.search(r'data-image-id="(\w+)"', site)
    assert image_id is not None
    html = client.get(f"/images/{image_id[1]}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert re.search(r'<div id="map" class="map" dir="ltr"', html)
    # the workspace's own words are Arabic (its scripts' are checked in Chromium, test_arabic_pages)
    assert "<h2>التعليقات التوضيحية" in html and ">حفظ</button>" in html
    assert 'id="measure-values" class="measure-values"' in html  # figures isolated inside


def test_the_users_setting_comes_first_then_cookie_accept_language_and_default(
    app: Flask,
) -> None:
    first = app.test_client()
    token = login(first, "editor")
    switch(first, "ar", token)
    # another browser, no cookie, asking for English: the editor's setting wins
    second = app.test_client()
    login(second, "editor")
    html = second.get("/", headers={"Accept-Language": "en-GB,en"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and "تسجيل الخروج" in html
    switch(second, "en", _csrf_from(html))
    assert '<html lang="en" dir="ltr">' in first.get("/").get_data(as_text=True)
    # signed out: the browser's Accept-Language, then the cookie over it
    reader = app.test_client()
    page = reader.get("/login", headers={"Accept-Language": "ar-SY,ar;q=0.9,en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]
    switch(reader, "en")
    page = reader.get("/login", headers={"Accept-Language": "ar-SY,ar;q=0.9"})
    assert '<html lang="en" dir="ltr">' in page.get_data(as_text=True)
    # no preference anywhere: the deployment's default
    default = app.test_client().get("/login", headers={"Accept-Language": "fr"})
    assert '<html lang="en" dir="ltr">' in default.get_data(as_text=True)


def test_the_default_language_setting(tmp_path: Path) -> None:
    settings = {"DATA_DIR": str(tmp_path / "instance"), "SECRET_KEY": "t", "TESTING": True}
    arabic_app = create_app({**settings, "DEFAULT_LANGUAGE": "ar"})
    with arabic_app.test_request_context("/login", headers={"Accept-Language": "fr"}):
        assert chosen() == "ar"
    with pytest.raises(ConfigError, match="ANNOTATOR_DEFAULT_LANGUAGE='fr' is not one of en, ar"):
        from_environment({"ANNOTATOR_DEFAULT_LANGUAGE": "fr"})
    assert from_environment({"ANNOTATOR_ARABIC_DIGITS": "Arabic-Indic"})["ARABIC_DIGITS"] == (
        "arabic-indic"
    )


def test_a_bad_switch_is_refused_and_changes_nothing(app: Flask) -> None:
    client = app.test_client()
    answer = client.post(
        "/language", data={"language": "xx"}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_request"
    assert "annotator_language" not in answer.headers.get("Set-Cookie", "")
    token = login(client, "viewer")
    # signed in, the form must carry the session's CSRF token, as every form does
    refused = client.post("/language", data={"language": "ar"})
    assert refused.status_code == 400
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    hostile = client.post(
        "/language", data={"language": "ar", "next": "//evil.example/", "csrf_token": token}
    )
    assert hostile.status_code == 303 and hostile.headers["Location"] == "/"


def test_the_scripts_catalogue_is_served_and_cacheable(app: Flask) -> None:
    client = app.test_client()
    answer = client.get("/i18n/ar.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert "public" in answer.headers["Cache-Control"] and answer.headers["ETag"]
    strings = answer.get_json()
    assert isinstance(strings, dict)
    catalogue = arabic()
    assert all(catalogue[key] == value for key, value in strings.items())
    again = client.get("/i18n/ar.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/i18n/en.json").get_json() == {}
    assert client.get("/i18n/xx.json").status_code == 404


def test_arabic_indic_digits_are_a_setting(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert number(1234.5) == "1,234.5"
        assert moment("2024-12-13T08:21:00Z") == "13 ديسمبر 2024، 08:21 UTC"
        app.config["ARABIC_DIGITS"] = "arabic-indic"
        try:
            # 1,234.5 in Arabic-Indic digits with the Arabic separators; the date likewise
            assert number(1234.5) == "\u0661\u066c\u0662\u0663\u0664\u066b\u0665"
            written = "13 ديسمبر 2024، 08:21".translate(ARABIC_INDIC) + " UTC"
            assert moment("2024-12-13T08:21:00Z") == written
        finally:
            app.config["ARABIC_DIGITS"] = "latin"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert moment("2024-12-13T08:21:00Z") == "2024-12-13 08:21 UTC"
