"""The search filters of a request's query string (GET /annotations, /exports, /review)."""

from __future__ import annotations

from typing import Any

from flask import request

from annotations.search import DEFAULT_LIMIT, Filters, parse_bbox
from annotations.times import parse_interval
from annotator.auth import actor
from annotator.errors import RequestError


def filters_from_query() -> Filters:
    args = request.args
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise RequestError("limit must be a whole number", status=400) from None
    start = end = None
    if args.get("datetime"):
        start, end = parse_interval(args["datetime"])
    statuses = tuple(s for s in args.get("status", "").split(",") if s)
    return Filters(
        bbox=parse_bbox(args["bbox"]) if args.get("bbox") else None,
        site=args.get("site") or None,
        image=args.get("image") or None,
        label=args.get("label") or None,
        status=statuses,
        start=start,
        end=end,
        author=args.get("author") or None,
        report=_number(args, "report"),
        event=_number(args, "event"),
        limit=limit,
        cursor=args.get("cursor") or None,
        role=actor().role,  # a report filter sees only what the user may see
    )


def _number(args: Any, name: str) -> int | None:
    value = args.get(name)
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise RequestError(f"{name} must be a {name} id (a whole number)", status=400)
    return int(value)
