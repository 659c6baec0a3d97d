"""The API described as OpenAPI 3.1, derived from the routes' own contracts.

`GET /api/v1/openapi.json` walks the app's URL map: every rule under /api/v1/ and /tiles/ has
a view whose `operation(...)` (annotator.api.contract) names its models, statuses and
security. Path parameters come from the rule, query parameters from the query model's fields,
the request body and the answers from the models, whose JSON Schemas (pydantic's
`model_json_schema()`, Draft 2020-12: the dialect of OpenAPI 3.1) become the component
schemas. What is written by hand (the error envelope and its responses per status, the security
schemes, the GeoJSON geometry, If-Match, the per-label attributes) is in openapi_hand. A view
without a contract is an error, not a gap in the document. `GET /api/v1/docs` shows the
document in a vendored Swagger UI; tests/annotator/test_openapi.py checks it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from importlib import metadata
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import BaseModel
from werkzeug.routing import Rule
from werkzeug.wrappers import Response as BaseResponse

from annotations.labels.schema import attributes_schema
from annotations.labels.taxonomy import Taxonomy
from annotator import services
from annotator.api import openapi_hand
from annotator.api.contract import COMPONENT, Operation, operation, operation_of
from annotator.api.openapi_common import (
    WRITE_SECURITY,
    attribute_schema_name,
    errors,
    ref,
    response_name,
    schema_ref,
)
from annotator.auth import current_user, login_required

__all__ = [
    "WRITE_SECURITY",
    "attribute_schema_name",
    "build",
    "error_statuses",
    "openapi_path",
    "response_name",
]
error_statuses = openapi_hand.error_statuses

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

OPENAPI_VERSION = "3.1.0"
DOCUMENTED_PREFIXES = ("/api/v1/", "/tiles/")
REF_TEMPLATE = "#/components/schemas/{model}"


def openapi_path(rule: str) -> str:
    """A werkzeug rule (`/tiles/<image_id>/<z>.<fmt>`) as an OpenAPI path template."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


# --- the views ----------------------------------------------------------------------------------


def page_login_required(view: F) -> F:
    """Like login_required, but a person who is not signed in is sent to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/openapi.json")
@login_required
@operation(
    "getOpenAPI",
    summary="This document",
    tags=("meta",),
    responses={200: {"description": "OpenAPI 3.1.", "content": {"type": "object"}}},
    extra={"responses": {304: {"description": openapi_hand.NOT_MODIFIED}}},
)
def spec() -> BaseResponse:
    document = build(
        services.taxonomy(),
        app=current_app,
        cookie_name=str(current_app.config.get("SESSION_COOKIE_NAME") or "session"),
        server=request.script_root or "/",
    )
    response = jsonify(document)
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/docs")
@page_login_required
@operation(
    "getDocsPage",
    summary="This document, browsable",
    tags=("meta",),
    responses={
        200: {"description": "An HTML page.", "content": {"text/html": {}}},
        302: "Not signed in: to the login page.",
    },
    security=None,
    extra={"security": [{"sessionCookie": []}]},
)
def docs() -> str:
    return render_template(
        "api_docs.html", spec_url=url_for("openapi.spec"), openapi_version=OPENAPI_VERSION
    )


# --- the document -------------------------------------------------------------------------------


def build(
    taxonomy: Taxonomy,
    *,
    app: Flask,
    cookie_name: str = "annotator_session",
    server: str = "/",
) -> dict[str, Any]:
    """The whole OpenAPI document of this app's routes and this taxonomy."""
    components = Components()
    paths = _paths(app, components)
    schemas = {
        "Error": openapi_hand.error_schema(),
        "LabelId": {
            "type": "string",
            "enum": [label.id for label in taxonomy],
            "description": "A label id of the taxonomy (GET /api/v1/labels).",
        },
        **{attribute_schema_name(label.id): attributes_schema(label) for label in taxonomy},
        **openapi_hand.schemas(taxonomy),
        **components.schemas,
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "annotator API",
            "version": _version(),
            "summary": "Satellite-imagery annotation: sites, images, labels, annotations, tiles.",
            "description": openapi_hand.DESCRIPTION,
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": server}],
        "security": [{"sessionCookie": []}, {"bearerToken": []}],
        "tags": openapi_hand.TAGS,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                **openapi_hand.path_parameter_components(),
                **openapi_hand.parameters(),
                **components.parameters,
            },
            "headers": openapi_hand.headers(),
            "responses": openapi_hand.responses(),
            "securitySchemes": openapi_hand.security_schemes(cookie_name),
        },
    }


def _version() -> str:
    try:
        return metadata.version("annotator")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class Components:
    """The component schemas of the models a document names (their `$defs` hoisted), and the
    query parameters shared by name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self._models: dict[str, type[BaseModel]] = {}

    def json_schema(self, model: type[BaseModel]) -> dict[str, Any]:
        """The model's own schema; what it refers to is added to the components."""
        try:
            made = model.model_json_schema(ref_template=REF_TEMPLATE)
        except KeyError as exc:  # pydantic refuses a $ref to a schema it does not know
            raise ValueError(
                f"{model.__name__} refers to {exc} itself: write the field as Annotated[..., "
                f'contract.component(name)] or WithJsonSchema({{"{COMPONENT}": name}})'
            ) from exc
        schema: dict[str, Any] = _component_refs(made)
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        return schema

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        name = model.__name__
        if self._models.setdefault(name, model) is not model:
            raise ValueError(f"two models are named {name}: {model} and {self._models[name]}")
        if name not in self.schemas:
            self._add(name, self.json_schema(model))
        return schema_ref(name)

    def resolve(self, value: Any) -> Any:
        """A dict of OpenAPI with every model class in it replaced by a reference."""
        if isinstance(value, type) and issubclass(value, BaseModel):
            return self.ref(value)
        if isinstance(value, Mapping):
            return {str(key): self.resolve(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(item) for item in value]
        return value

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        if self.schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named {name}")


def _component_refs(value: Any) -> Any:
    """contract.component's placeholders as references to the hand-built schemas; a null
    default left out where null is not a value the schema takes (an optional field whose
    absence means "not given")."""
    if isinstance(value, dict):
        found = {key: _component_refs(item) for key, item in value.items() if key != COMPONENT}
        if COMPONENT in value:
            found = {"$ref": REF_TEMPLATE.format(model=value[COMPONENT]), **found}
        if "default" in found and found["default"] is None and not _takes_null(found):
            del found["default"]
        return found
    if isinstance(value, list):
        return [_component_refs(item) for item in value]
    return value


def _takes_null(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds is not None:
        return kinds == "null" or (isinstance(kinds, list) and "null" in kinds)
    members = schema.get("anyOf", schema.get("oneOf"))
    if members is not None:
        return any(_takes_null(member) for member in members)
    return "$ref" not in schema and "enum" not in schema and "const" not in schema


# --- paths --------------------------------------------------------------------------------------


def _paths(app: Flask, components: Components) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda found: found.rule):
        if not rule.rule.startswith(DOCUMENTED_PREFIXES):
            continue
        path = openapi_path(rule.rule)
        view = app.view_functions[rule.endpoint]
        item = paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            contract = operation_of(view, method)
            if contract is None:
                raise LookupError(f"{method} {path}: its view has no operation(...)")
            item[method.lower()] = _operation(contract, rule, components)
    return paths


def _operation(contract: Operation, rule: Rule, components: Components) -> dict[str, Any]:
    found: dict[str, Any] = {
        "tags": list(contract.tags),
        "operationId": contract.operation_id,
        "summary": contract.summary,
    }
    if contract.description:
        found["description"] = contract.description
    parameters = _path_parameters(rule.rule)
    if contract.query is not None:
        parameters += _query_parameters(contract.query, components)
    if parameters:
        found["parameters"] = parameters
    statuses = set(contract.errors)
    if contract.body is not None:
        found["requestBody"] = _request_body(contract.body, components)
        statuses |= {400, 415, 422}
    if contract.security == "write":
        found["security"] = WRITE_SECURITY
        statuses |= {401, 403}
    elif contract.security == "read":
        statuses.add(401)
    else:
        found["security"] = []
    found["responses"] = {
        **{
            str(status): _response(status, spec, components)
            for status, spec in sorted(contract.responses.items())
        },
        **errors(*sorted(statuses)),
    }
    if contract.extra:
        _merge(found, components.resolve(contract.extra))
    return found


def _merge(found: dict[str, Any], extra: dict[str, Any]) -> None:
    """`extra` over the derived operation: responses merged per status, parameters replaced by
    name and place, anything else set."""
    for key, value in extra.items():
        if key == "responses":
            for status, response in value.items():
                found["responses"][status] = _deep_merge(found["responses"].get(status), response)
        elif key == "parameters":
            given = {(p.get("name"), p.get("in")) for p in value if "name" in p}
            kept = [
                p for p in found.get("parameters", []) if (p.get("name"), p.get("in")) not in given
            ]
            found["parameters"] = [*kept, *value]
        else:
            found[key] = value


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{key: _deep_merge(base.get(key), value) for key, value in over.items()}}
    return over


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    """One per variable of the rule: a shared component, or from its converter."""
    found: list[dict[str, Any]] = []
    for converter, arguments, name in re.findall(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", rule):
        if name in openapi_hand.PATH_PARAMETERS:
            found.append(ref("parameters", openapi_hand.PATH_PARAMETERS[name][0]))
            continue
        schema: dict[str, Any] = {"type": "integer" if converter == "int" else "string"}
        if converter == "any":
            schema["enum"] = [part.strip(" '\"") for part in arguments.split(",")]
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return found


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(s) for s in schema.get("anyOf", []))


def _query_parameters(model: type[BaseModel], components: Components) -> list[dict[str, Any]]:
    """One per field; a model with `shared_parameters = True` (a ClassVar) puts them in the
    components by name, for every route that takes the same parameters."""
    schema = components.json_schema(model)
    required = set(schema.get("required", []))
    shared = bool(getattr(model, "shared_parameters", False))
    found: list[dict[str, Any]] = []
    for name, field_schema in schema.get("properties", {}).items():
        field_schema = dict(field_schema)
        field_schema.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query"}
        if "description" in field_schema:
            parameter["description"] = field_schema.pop("description")
        if name in required:
            parameter["required"] = True
        if field_schema.get("examples"):
            parameter["example"] = field_schema.pop("examples")[0]
        parameter["schema"] = field_schema
        if _is_array(field_schema):
            parameter |= {"style": "form", "explode": False}
        if shared and components.parameters.setdefault(name, parameter) == parameter:
            found.append(ref("parameters", name))
        else:
            found.append(parameter)
    return found


def _request_body(model: type[BaseModel], components: Components) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": components.ref(model)}
    examples = components.schemas[model.__name__].get("examples")
    if examples:
        media["example"] = examples[0]
    return {"required": True, "content": {"application/json": media}}


def _response(status: int, spec: Any, components: Components) -> dict[str, Any]:
    """A success answer: None (no body), a description, a model, or a dict (a response
    object, a media-type map, or else the JSON Schema of a JSON body)."""
    phrase = HTTPStatus(status).phrase + "."
    if spec is None:
        return {"description": phrase}
    if isinstance(spec, str):
        return {"description": spec}
    if isinstance(spec, type) and issubclass(spec, BaseModel):
        doc = (spec.__doc__ or "").strip().split("\n")[0] or phrase
        return {
            "description": doc,
            "content": {"application/json": {"schema": components.ref(spec)}},
        }
    resolved: dict[str, Any] = components.resolve(spec)
    if {"description", "content", "headers"} & set(resolved):
        content = resolved.get("content")
        if isinstance(content, dict) and content and not all("/" in key for key in content):
            resolved["content"] = {"application/json": {"schema": content}}
        return {"description": phrase, **resolved}
    if resolved and all("/" in key for key in resolved):
        return {"description": phrase, "content": resolved}
    return {"description": phrase, "content": {"application/json": {"schema": resolved}}}
