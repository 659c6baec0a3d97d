"""Read-only keys: where a request carries one, and where one counts.

A key is an API token of scope `read-tiles` (annotations.catalogue.users). QGIS's XYZ layers,
GDAL and Google Earth cannot send `Authorization: Bearer`, so a key comes as `?key=` or as the
password of HTTP Basic (any user name). It counts only on the reads in `ALLOWED_ENDPOINTS` and
the blueprints in `ALLOWED_BLUEPRINTS` (tiles, TileJSON, WMTS capabilities, COG downloads, the
OGC API); anywhere else it is no credential at all, and a write that carries one is refused.

This module reads the request only; annotator.auth decides who is asking with it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import g, request
from werkzeug.wrappers import Response as BaseResponse

from annotations.catalogue.users import KEY_PREFIX

#: the one allow-list: the views a key may read (GET and HEAD only) ...
ALLOWED_ENDPOINTS = frozenset({"tiles.tile", "tiles.tilejson", "images.cog", "wmts.capabilities"})
#: ... and whole blueprints it may read (a nested blueprint counts under its parent's name)
ALLOWED_BLUEPRINTS = frozenset({"ogcapi"})
READS = frozenset({"GET", "HEAD"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARAMETER = "key"


def query_key() -> str | None:
    """The key in the URL's `?key=`, if any."""
    value = request.args.get(PARAMETER)
    return None if value is None else value.strip()


def basic_password() -> str | None:
    """The password of an `Authorization: Basic` header, if one was sent (the user name is
    ignored: QGIS and GDAL need one, the key alone says who)."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return ""
    return (auth.password or "").strip()


def presented_key() -> str | None:
    """The key this request carries, as `?key=` or a Basic password, if it carries one."""
    key = query_key()
    return key if key is not None else basic_password()


def carries_key(bearer: str | None) -> bool:
    """Whether the request holds a key in any form, a bearer header with a key included."""
    if bearer is not None and bearer.startswith(KEY_PREFIX):
        return True
    return presented_key() is not None


def key_allowed() -> bool:
    """Whether a key counts for this request: a read of an allowed view."""
    if request.method not in READS:
        return False
    if request.endpoint in ALLOWED_ENDPOINTS:
        return True
    return any(name in ALLOWED_BLUEPRINTS for name in request.blueprints)


def note_key(key: str, *, from_query: bool) -> None:
    """Remember that a key let this request in (and whether it came in the URL, so the
    TileJSON and WMTS answers carry it in the URLs they give out)."""
    g.read_key = key
    g.url_key = key if from_query else None


def url_key() -> str | None:
    """The valid key this request came with as `?key=`, if it did."""
    key: str | None = g.get("url_key")
    return key


def with_key(url: str) -> str:
    """`url` with this request's `?key=` added, when it came with one (else unchanged)."""
    key = url_key()
    if key is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER]
    query.append((PARAMETER, key))
    return urlunsplit(parts._replace(query=urlencode(query, safe="{}")))


def without_key(path: str) -> str:
    """A path and query with any `key` parameter taken out (for a sign-in's `next=`)."""
    parts = urlsplit(path)
    if not parts.query:
        return path
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER]
    return urlunsplit(parts._replace(query=urlencode(query)))


def no_referrer(response: BaseResponse) -> BaseResponse:
    """A response to a URL with a key in it tells browsers to send no Referer from it."""
    if PARAMETER in request.args:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
