"""Words the app stores in English that a page shows to people: role names. Marked here so
that `make messages` extracts them (the stored value never changes)."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import gettext

from annotator.language import choice


def role_name(role: str) -> str:
    """A role's name in the reader's language (an unknown one as it is)."""
    names = {
        "viewer": gettext("viewer"),
        "analyst": gettext("analyst"),
        "editor": gettext("editor"),
        "admin": gettext("admin"),
    }
    return names.get(role, role)


def status_name(status: str) -> str:
    """An annotation's review status in the reader's language (in_review: in review)."""
    names = {
        "draft": gettext("draft"),
        "in_review": gettext("in review"),
        "approved": gettext("approved"),
        "rejected": gettext("rejected"),
        "deleted": gettext("deleted"),
    }
    return names.get(status, status.replace("_", " "))


def status_names(statuses: list[str] | tuple[str, ...]) -> str:
    """Statuses listed as a sentence lists them: draft, in review, approved."""
    return gettext(", ").join(status_name(status) for status in statuses)


def format_title(name: str, title: str) -> str:
    """An export format's title in the reader's language (annotations/exchange names them in
    English); a format added later shows its English title until it is added here."""
    titles = {
        "geojson": gettext("GeoJSON (RFC 7946)"),
        "gpkg": gettext("GeoPackage 1.2 (a layer per geometry type, styled by label colour)"),
        "shp": gettext("Shapefile (zip: one .shp per geometry type, .prj, .cpg, .qml, fields.txt)"),
        "kml": gettext("KML (styled by label colour, TimeStamp = capture time)"),
        "kmz": gettext("KMZ (zipped KML)"),
        "csv": gettext("CSV (geometry as WKT, centroid lon/lat)"),
        "fgb": gettext("FlatGeobuf"),
        "geoparquet": gettext("GeoParquet 1.1 (WKB geometry with a bbox covering column)"),
        "stac": gettext("STAC catalogue (images, label items, a collection per site)"),
        "coco": gettext("COCO JSON with PNG image chips (training set)"),
        "yolo": gettext("YOLO labels (oriented boxes for rotated boxes) with PNG image chips"),
    }
    return titles.get(name, title)


def refusal(status: int) -> str:
    """What an error page's status means, in the reader's language (the server's own
    message, in English, follows it)."""
    meanings = {
        400: gettext("The request could not be read."),
        401: gettext("Sign in first."),
        403: gettext("Your role may not do this."),
        404: gettext("There is nothing at this address."),
        405: gettext("This address does not answer that kind of request."),
        409: gettext("Someone else changed this meanwhile."),
        413: gettext("What was sent is too large."),
        429: gettext("Too many requests: try again shortly."),
        503: gettext("The server is busy or not ready: try again shortly."),
    }
    return meanings.get(status, gettext("Something went wrong on the server."))


def confidence_name(confidence: str) -> str:
    """An annotation's confidence in the reader's language."""
    names = {
        "confirmed": gettext("confirmed"),
        "probable": gettext("probable"),
        "possible": gettext("possible"),
    }
    return names.get(confidence, confidence)


def report_status_name(status: str) -> str:
    """A report's status in the reader's language."""
    names = {
        "draft": gettext("draft"),
        "published": gettext("published"),
        "withdrawn": gettext("withdrawn"),
    }
    return names.get(status, status)


def stance_name(stance: str) -> str:
    """What a piece of evidence does for a claim, in the reader's language."""
    names = {
        "supports": gettext("supports"),
        "contradicts": gettext("contradicts"),
        "context": gettext("context"),
    }
    return names.get(stance, stance)


def size_words(kind: str, figures: str) -> str:
    """A measured size as the review queue writes it ("73.3 x 68.9 m (length x span)"), the
    figures kept left to right (a left-to-right isolate) on a right-to-left page."""
    if choice.direction() == "rtl":
        figures = f"\u2066{figures}\u2069"
    sizes = {
        "length_span": gettext("%(figures)s m (length \u00d7 span)"),
        "sides": gettext("%(figures)s m (sides)"),
        "long": gettext("%(figures)s m long"),
    }
    return sizes[kind] % {"figures": figures}


def language_name(code: str) -> str:
    """A report's language (its BCP 47 code, "ar") by its name in the reader's language
    (العربية, Arabic), from Babel's locale data; a code Babel does not know, as it is."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(choice.current())
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name or code
