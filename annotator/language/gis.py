"""Words the imagery and GIS pages show that the app answers or stores in English: the OGC
API's links, collections and page titles (its JSON documents keep them in English, a
protocol's words; its HTML pages show them in the reader's language), and how an image was
placed on the map (the catalogue keeps imagery's English sentence, e.g. "placed by 6 control
points, RMSE 3.2 m"). A sentence of a shape not known here is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_babel import gettext
from markupsafe import Markup, escape

from annotator.language.choice import current
from annotator.language.words import report_status_name


def link_title(title: str) -> Markup:
    """An OGC API link's title in the reader's language (a collection's own title as it is;
    the standard's name, OpenAPI 3.0, isolated in <bdi>)."""
    spec = Markup("<bdi>OpenAPI 3.0</bdi>")
    if title == "OpenAPI 3.0":
        return spec
    if title == "The API definition (OpenAPI 3.0)":
        return escape(gettext("The API definition (%(spec)s)", spec="\x00")).replace("\x00", spec)
    titles: dict[str, Callable[[], str]] = {
        "This document": lambda: gettext("This document"),
        "This document as HTML": lambda: gettext("This document as HTML"),
        "The API definition as HTML": lambda: gettext("The API definition as HTML"),
        "Conformance classes": lambda: gettext("Conformance classes"),
        "The collections": lambda: gettext("The collections"),
        "As HTML": lambda: gettext("As HTML"),
        "This collection": lambda: gettext("This collection"),
        "Its features": lambda: gettext("Its features"),
        "Its features as HTML": lambda: gettext("Its features as HTML"),
        "This page": lambda: gettext("This page"),
        "This page as GeoJSON": lambda: gettext("This page as GeoJSON"),
        "This page as HTML": lambda: gettext("This page as HTML"),
        "This feature": lambda: gettext("This feature"),
        "Next page": lambda: gettext("Next page"),
        "All annotations": lambda: gettext("All annotations"),
    }
    found = titles.get(title)
    return escape(found() if found else title)


def page_title(kind: str, title: str) -> str | Markup:
    """The heading of an /ogcapi HTML page: the kind's name, or the collection's title (a
    feature's id isolated, left to right)."""
    if kind == "landing":
        return "OGC API - Features"
    if kind == "conformance":
        return gettext("Conformance")
    if kind == "api":
        return gettext("API definition")
    if kind == "collections":
        return gettext("Collections")
    if kind == "item" and title.startswith("Feature "):
        shown = Markup('<bdi dir="ltr">%s</bdi>') % title.removeprefix("Feature ")
        return escape(gettext("Feature %(id)s", id="\x00")).replace("\x00", shown)
    if title == "All annotations":
        return gettext("All annotations")
    return title


def description(text: str) -> str:
    """The landing page's description."""
    if text.startswith("Satellite-imagery annotations as features"):
        return gettext(
            "Satellite-imagery annotations as features: all of them, per site and per report."
        )
    return text


def collection_title(one: dict[str, Any]) -> str:
    return gettext("All annotations") if one.get("id") == "annotations" else str(one.get("title"))


def collection_description(one: dict[str, Any]) -> Markup:
    """A collection's description: the names in it (a site's, a report's) isolated in <bdi>."""
    kind = str(one.get("id", "")).partition("-")[0]
    title = Markup("<bdi>%s</bdi>") % str(one.get("title", ""))
    if one.get("id") == "annotations":
        return escape(gettext("Every annotation on every image."))
    if kind == "site":
        return escape(gettext("Annotations of the site %(name)s.", name="\x00")).replace(
            "\x00", title
        )
    if kind == "report":
        status = re.search(r"\((\w+)\)\.$", str(one.get("description", "")))
        words = gettext("Annotations linked to the report %(title)s.", title="\x00")
        shown = escape(words).replace("\x00", title)
        if status:
            shown += Markup(" (%s)") % report_status_name(status[1])
        return shown
    return escape(str(one.get("description", "")))


#: imagery's sentences of how an image was placed (imagery.georef.placement, models), the
#: "placed by " before them already taken off
PLACEMENTS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"(\d+) control points?, a thin plate spline exact at each \(no RMSE\)"),
        lambda m: gettext(
            "placed by %(num)s control points, a thin plate spline exact at each (no RMSE)",
            num=m[1],
        ),
    ),
    (
        re.compile(r"(\d+) control points?, RMSE ([\d.]+) m"),
        lambda m: gettext("placed by %(num)s control points, RMSE %(rmse)s m", num=m[1], rmse=m[2]),
    ),
    (
        re.compile(r"control points, RMSE ([\d.]+) m"),
        lambda m: gettext("placed by control points, RMSE %(rmse)s m", rmse=m[1]),
    ),
    (
        re.compile(r"GCP thin plate spline, exact at its (\d+) points \(RMS (\S+) m\)"),
        lambda m: gettext(
            "placed by the file's %(num)s control points, a thin plate spline exact at each",
            num=m[1],
        ),
    ),
    (
        re.compile(r"GCP polynomial (\d+), RMS (\S+) m \((\d+) points\)"),
        lambda m: gettext(
            "placed by the file's %(num)s control points, polynomial of order %(order)s, "
            "RMS %(rms)s m",
            num=m[3],
            order=m[1],
            rms=m[2],
        ),
    ),
    (
        re.compile(r"RPC, constant height (\S+) m(?: \((.*)\))?"),
        lambda m: gettext(
            "placed by RPC, at a constant ground height of %(height)s m", height=m[1]
        ),
    ),
    (
        re.compile(r"rotated geotransform, warped north-up"),
        lambda m: gettext("placed by a rotated geotransform, warped north-up"),
    ),
)


def placement_words(text: str) -> str:
    """How an image was placed, in the reader's language; an unknown sentence as it is."""
    rest = text.removeprefix("placed by ").strip()
    if current() == "en":
        return f"placed by {rest}" if rest else ""  # imagery's own sentence
    for pattern, words in PLACEMENTS:
        found = pattern.fullmatch(rest)
        if found:
            return words(found)
    return f"placed by {rest}" if rest else ""


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        ogc_link_title=link_title,
        ogc_page_title=page_title,
        ogc_description=description,
        ogc_collection_title=collection_title,
        ogc_collection_description=collection_description,
        placement_words=placement_words,
    )
