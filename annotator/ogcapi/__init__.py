"""OGC API - Features at /ogcapi: the annotations as live layers for QGIS, GDAL and any
OGC client (Core, GeoJSON, HTML, OpenAPI 3.0 and CRS by reference).

Written on our own models rather than mounting pygeoapi: pygeoapi is an app of its own
whose collections come from a YAML file read at import, with no notion of who is asking,
while every read here must apply the reader's role (a viewer never sees a draft report's
collection). The routes are thin; the work is in annotations.ogc (Flask-free).

Reads need a signed-in user, as the REST API's (bearer token or session; the blueprint is
named `ogcapi` so read-only keys may be allowed on it by name).
"""

from annotator.ogcapi.routes import bp

__all__ = ["bp"]
