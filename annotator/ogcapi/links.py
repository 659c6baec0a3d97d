"""Links and collection descriptions of /ogcapi. Every href is absolute (annotator.urls:
never from an unchecked Host), and carries the caller's read key when one was used, so a
client that authenticates by `?key=` can follow them."""

from __future__ import annotations

from typing import Any

from flask import request

from annotations.ogc.collections import Collection
from annotations.ogc.crs import CRS84
from annotations.ogc.items import ItemQuery
from annotator.urls import external_url

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"


def link(endpoint: str, rel: str, kind: str, title: str, **values: Any) -> dict[str, str]:
    key = request.args.get("key")
    if key:
        values["key"] = key
    return {"href": external_url(endpoint, **values), "rel": rel, "type": kind, "title": title}


def collection_body(found: Collection) -> dict[str, Any]:
    ids = {"collection_id": found.id}
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [list(found.bbox)], "crs": CRS84}},
        "crs": list(found.crs),
        "storageCrs": CRS84,
        "links": [
            link("ogcapi.one_collection", "self", JSON, "This collection", **ids),
            link("ogcapi.one_collection", "alternate", HTML, "As HTML", f="html", **ids),
            link("ogcapi.items", "items", GEOJSON, "Its features", **ids),
            link("ogcapi.items", "items", HTML, "Its features as HTML", f="html", **ids),
        ],
    }


def links_of(found: Collection, query: ItemQuery, cursor: str | None, html: bool) -> list[Any]:
    """self, alternate, collection and (when more follow) next: the query repeated, the
    limit as given (after clamping), and the next page's cursor."""
    params = {k: v for k, v in query.params if k not in ("f", "key")}
    params["limit"] = str(query.filters.limit)
    ids = {"collection_id": found.id}
    here = {**params, "cursor": query.filters.cursor} if query.filters.cursor else params
    links = [
        link(
            "ogcapi.items",
            "self",
            HTML if html else GEOJSON,
            "This page",
            **ids,
            **here,
            **({"f": "html"} if html else {}),
        ),
        link(
            "ogcapi.items",
            "alternate",
            GEOJSON if html else HTML,
            "This page as " + ("GeoJSON" if html else "HTML"),
            **ids,
            **here,
            f="json" if html else "html",
        ),
        link("ogcapi.one_collection", "collection", JSON, found.title, **ids),
    ]
    if cursor:
        links.append(
            link(
                "ogcapi.items",
                "next",
                HTML if html else GEOJSON,
                "Next page",
                **ids,
                **params,
                cursor=cursor,
                **({"f": "html"} if html else {}),
            )
        )
    return links
