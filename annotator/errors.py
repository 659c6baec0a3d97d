"""ONE table from domain exceptions to HTTP status codes, and the error responses.

API and tile clients get JSON `{"error", "message", "details"}`; people get a page.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from annotations import disk
from annotations.annotation import Forbidden, PreconditionRequired, VersionConflict
from annotations.errors import AlreadyExists, AnnotationError, InvalidInput, Malformed, NotFound
from annotations.exchange.safety import (
    SourceTooLarge,
    UnreadableSource,
    UnsafeFile,
    UnsupportedSource,
)
from annotations.newsroom.publishing import NotPublishable
from imagery.errors import (
    BadTileAddress,
    ImageryError,
    ImageTooLarge,
    NotAGeoTIFF,
    NotGeoreferenced,
    TileOutsideImage,
    UnreadableImage,
    UnsupportedImage,
)


class RequestError(Exception):
    """A malformed request caught in the web layer (bad field, missing file)."""

    def __init__(
        self, message: str, *, status: int = 400, code: str = "bad_request", details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details


#: exception class -> (HTTP status, short error code); the first matching row wins.
STATUS_TABLE: list[tuple[type[Exception], int, str]] = [
    (Forbidden, 403, "forbidden"),
    (VersionConflict, 412, "precondition_failed"),
    (PreconditionRequired, 428, "precondition_required"),
    (NotFound, 404, "not_found"),
    (AlreadyExists, 409, "conflict"),
    (SourceTooLarge, 413, "too_large"),
    (UnsupportedSource, 415, "unsupported_format"),
    (UnsafeFile, 422, "unsafe_file"),
    (UnreadableSource, 422, "unreadable_file"),
    (NotPublishable, 409, "not_publishable"),
    (InvalidInput, 422, "invalid"),
    (Malformed, 400, "malformed"),
    (NotAGeoTIFF, 415, "not_a_geotiff"),
    (NotGeoreferenced, 422, "not_georeferenced"),
    (ImageTooLarge, 413, "image_too_large"),
    (UnreadableImage, 422, "unreadable_image"),
    (UnsupportedImage, 422, "unsupported_image"),
    (BadTileAddress, 400, "bad_tile_address"),
    (TileOutsideImage, 404, "tile_outside_image"),
    (ImageryError, 422, "imagery_error"),
    (AnnotationError, 422, "invalid"),
]


#: a full disk: 507 Insufficient Storage (RFC 4918), whatever error carried the news
OUT_OF_SPACE = (507, "insufficient_storage")
#: the errors a full disk arrives as when no domain code caught it (see annotations.disk)
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, sqlite3.Error, OperationalError)


def status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and error code the table gives an exception (pages that show an
    error in place, such as the import form, use it too)."""
    if disk.is_out_of_space(exc):
        return OUT_OF_SPACE
    if isinstance(exc, RequestError):
        return exc.status, exc.code
    for exc_class, status, code in STATUS_TABLE:
        if isinstance(exc, exc_class):
            return status, code
    raise exc


def wants_json() -> bool:
    path = request.path
    if path.startswith(("/api/", "/tiles/")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    if wants_json():
        response = jsonify({"error": code, "message": message, "details": details})
    else:
        response = Response(
            render_template("error.html", status=status, code=code, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    for exc_class, status, code in STATUS_TABLE:
        app.register_error_handler(exc_class, _handler(status, code))
    app.register_error_handler(RequestError, _request_error)
    app.register_error_handler(HTTPException, _http_error)
    for exc_class in STORAGE_ERRORS:
        app.register_error_handler(exc_class, _storage_error)


def _handler(status: int, code: str) -> Any:
    def handle(exc: Exception) -> Response:
        if disk.is_out_of_space(exc):  # say what is wrong, not what it broke
            return error_response(*OUT_OF_SPACE, disk.MESSAGE)
        return error_response(status, code, str(exc), getattr(exc, "details", None))

    return handle


def _request_error(exc: RequestError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _storage_error(exc: Exception) -> Response:
    """507 for a full disk; any other error of these kinds stays what it was (a 500)."""
    if disk.is_out_of_space(exc):
        return error_response(*OUT_OF_SPACE, disk.MESSAGE)
    raise exc


def _http_error(exc: HTTPException) -> Response:
    if disk.is_out_of_space(getattr(exc, "original_exception", None)):
        return error_response(*OUT_OF_SPACE, disk.MESSAGE)
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    if status == 413:
        limit = request.max_content_length
        if limit:
            message = f"the upload is larger than the limit of {limit // (1024 * 1024)} MB"
    response = error_response(status, code, message)
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        value = exc.get_response().headers.get(header)
        if value:
            response.headers[header] = value
    return response
