"""The search filters of a request's query string (GET /annotations, GET /exports):
read by one model, annotator.api.models.annotations.SearchQuery."""

from __future__ import annotations

from annotations.search import Filters
from annotator.api.contract import query_values, validate
from annotator.api.models.annotations import SearchQuery
from annotator.auth import actor


def filters_from_query() -> Filters:
    """The filters for a route that takes them besides its own parameters (exports)."""
    query = validate(SearchQuery, query_values(SearchQuery))
    return query.filters(actor().role)  # a report filter sees only what the user may see
