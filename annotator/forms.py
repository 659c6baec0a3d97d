"""Parsing request bodies into plain values, with 4xx errors for anything malformed."""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, request

from annotations import jsontext
from annotator.errors import RequestError


def _reject_constant(name: str) -> float:
    raise RequestError(f"{name} is not a JSON number; send finite numbers only")


def _finite_float(text: str) -> float:
    """1e309 is valid JSON but overflows to infinity: refuse it like NaN."""
    value = float(text)
    if not math.isfinite(value):
        raise RequestError(
            f"the number {text[:40]} is out of range; send finite numbers only",
            code="malformed_json",
        )
    return value


#: the ground heights an image placed by RPCs may be orthorectified at, in metres
HEIGHT_RANGE_M = (-500.0, 9000.0)


def ground_height_m(value: object, *, form: bool = False) -> float | None:
    """A ground height in metres from a JSON number, or with `form` a form field's text
    ("" or None: none given); anything else, or outside HEIGHT_RANGE_M, is a 400."""
    low, high = HEIGHT_RANGE_M
    refused = RequestError(f"height must be a number of metres ({low:g} to {high:g})", status=400)
    if value is None or value == "":
        return None
    if form and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise refused from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refused
    if not (math.isfinite(value) and low < value < high):
        raise refused
    return float(value)


def json_body() -> dict[str, Any]:
    """The request's JSON object; NaN and Infinity are refused, not read as floats."""
    if not request.is_json:
        raise RequestError(
            "send the body as JSON with 'Content-Type: application/json'",
            status=415,
            code="unsupported_media_type",
        )
    limit = int(current_app.config["MAX_JSON_MB"]) * 1024 * 1024
    if request.content_length is not None and request.content_length > limit:
        raise RequestError(
            f"the JSON body is larger than {limit // (1024 * 1024)} MB; send fewer features "
            "per request",
            status=413,
            code="request_entity_too_large",
        )
    # a declared length is checked above; a chunked body is read no further than the limit
    raw = request.get_data(cache=True) if request.content_length else request.stream.read(limit + 1)
    if len(raw) > limit:
        raise RequestError(
            f"the JSON body is larger than {limit // (1024 * 1024)} MB; send fewer features "
            "per request",
            status=413,
            code="request_entity_too_large",
        )
    try:
        data = jsontext.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"the body is not valid JSON: {exc}", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise RequestError("the JSON body must be an object")
    return data
