"""Names and small helpers of the OpenAPI document, shared by its builder (annotator.api.openapi),
the parts built by hand (openapi_hand) and the route models. It imports none of them, so they
never import each other in a circle."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

CSRF_HEADER = "X-CSRF-Token"  # what annotator.auth.check_csrf reads
ID_PATTERN = "^[0-9a-f]{32}$"
#: every write is either a signed-in browser with its CSRF token, or a bearer token
WRITE_SECURITY: list[dict[str, list[str]]] = [
    {"sessionCookie": [], "csrfToken": []},
    {"bearerToken": []},
]


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict[str, str]:
    return ref("schemas", name)


def response_name(status: int) -> str:
    return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")


def errors(*statuses: int) -> dict[str, Any]:
    return {str(status): ref("responses", response_name(status)) for status in statuses}


def json_content(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": schema}}


def ok(
    description: str,
    schema: dict[str, Any],
    media: str = "application/json",
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": json_content(schema, media)}
    if headers:
        response["headers"] = headers
    return response


def attribute_schema_name(label_id: str) -> str:
    """The component schema of a label's attributes."""
    return f"Attributes.{label_id}"
