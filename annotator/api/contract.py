"""One contract per route: pydantic models plus one `operation(...)` decorator on the view.

The decorator reads and validates the request (the JSON body through
`annotator.forms.json_body`, the query string from `request.args`) into the route's models,
passes them to the view as the keyword arguments `body=` and `query=`, and records on the
view what `annotator.api.openapi` needs to describe the route. A pydantic `ValidationError`
becomes the usual error envelope (`RequestError`): 422 "invalid" by default, the message one
sentence naming the field path, `details` the list of every error found.

    @bp.post("/sites")
    @role_required(Role.analyst)
    @operation("createSite", summary="Create a site", tags=("sites",), body=SiteIn,
               responses={201: SiteOut}, errors=(409, 422), security="write")
    def create(body: SiteIn) -> Response: ...

A validator that must answer with an exact text raises `ValueError("<text>")` or
`invalid("<text>")` (which may also choose another status and code); the text is kept word
for word. A domain exception (`annotations.errors.AnnotationError` and the like) raised in a
validator is not caught by pydantic: it reaches the app's STATUS_TABLE handlers unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from flask import request
from pydantic import (
    BaseModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from annotator import services
from annotator.errors import STATUS_TABLE, RequestError
from annotator.forms import json_body

F = TypeVar("F", bound=Callable[..., Any])
Security = Literal["read", "write"] | None
#: what a success status documents: a model, another type pydantic can describe (list[Model]),
#: a dict (an OpenAPI response object with "content"/"description", a media-type map such as
#: {"image/png": {...}}, or else a raw JSON schema of an application/json body), or None
ResponseSpec = Any

DEFAULT_STATUS = 422
DEFAULT_CODE = "invalid"
_ATTRIBUTE = "__api_operation__"
#: the key of a reference to a hand-built component schema (see `component`)
COMPONENT = "x-component"


@dataclasses.dataclass(frozen=True)
class Operation:
    """Everything one route declares about its contract."""

    operation_id: str
    summary: str
    description: str | None = None
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, ResponseSpec] = dataclasses.field(default_factory=dict)
    errors: tuple[int, ...] = ()
    security: Security = "read"
    extra: Mapping[str, Any] | None = None
    method: str | None = None


def operation(
    operation_id: str,
    *,
    summary: str,
    description: str | None = None,
    tags: tuple[str, ...] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: Mapping[int, ResponseSpec] | None = None,
    errors: tuple[int, ...] = (),
    security: Security = "read",
    extra: Mapping[str, Any] | None = None,
    method: str | None = None,
) -> Callable[[F], F]:
    """Validate the request into `body`/`query` models and record the route's contract.

    A view serving several methods with different contracts (PUT and PATCH) stacks one
    `operation(..., method="PUT")` per method; each validates only requests of its method.
    """
    spec = Operation(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=tuple(tags),
        body=body,
        query=query,
        responses=dict(responses or {200: None}),
        errors=tuple(errors),
        security=security,
        extra=extra,
        method=method.upper() if method else None,
    )

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if spec.method is None or request.method == spec.method:
                if query is not None:
                    kwargs["query"] = validate(query, query_values(query))
                if body is not None:
                    kwargs["body"] = validate(body, json_body())
            return view(*args, **kwargs)

        # functools.wraps shares the inner view's dict: copy it before adding this method
        recorded = dict(operations_of(view))
        recorded[spec.method] = spec
        setattr(wrapped, _ATTRIBUTE, recorded)
        return wrapped  # type: ignore[return-value]

    return decorate


def operations_of(view: Callable[..., Any] | None) -> dict[str | None, Operation]:
    """The contracts recorded on a view, by method (None: every method of the view); auth
    decorators that use functools.wraps keep them."""
    found = getattr(view, _ATTRIBUTE, None)
    return dict(found) if isinstance(found, dict) else {}


def operation_of(view: Callable[..., Any] | None, method: str = "GET") -> Operation | None:
    """The contract of one method of a view, or None when it has none."""
    found = operations_of(view)
    return found.get(method.upper(), found.get(None))


def component(name: str) -> WithJsonSchema:
    """A field documented as a component the builder makes by hand (`LabelId`, `Geometry`):
    `label: Annotated[str, component("LabelId")]`. (A placeholder: pydantic refuses a `$ref`
    to a schema it does not know; annotator.api.openapi turns it into the `$ref`.)"""
    return WithJsonSchema({COMPONENT: name})


# --- reading the request ------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def validation_context() -> dict[str, Any]:
    """What validators may consult: the app's label taxonomy."""
    return {"taxonomy": services.taxonomy()}


def validate(model: type[M], data: Any) -> M:
    """`model.model_validate(data)`, a ValidationError answered as a RequestError."""
    try:
        return model.model_validate(data, context=validation_context())
    except ValidationError as exc:
        raise request_error(exc) from None


def is_list_field(annotation: Any) -> bool:
    """list[X], tuple[X, ...], set[X] -- also inside Optional/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_list_field(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(is_list_field(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset)


def query_values(model: type[BaseModel]) -> dict[str, Any]:
    """request.args as a dict for the model: a list field takes comma-separated values (form
    style, explode false: `?status=draft,reviewed`) and repeated keys; any other field the
    first value given. Keys the model does not name are passed on (the model decides)."""
    values: dict[str, Any] = {}
    lists = {
        field.alias or name
        for name, field in model.model_fields.items()
        if is_list_field(field.annotation)
    }
    for key in request.args:
        if key in lists:
            values[key] = [
                part
                for given in request.args.getlist(key)
                for part in given.split(",")
                if part != ""
            ]
        else:
            values[key] = request.args.get(key)
    return values


# --- errors -------------------------------------------------------------------------------------


def invalid(
    message: str, *, status: int = DEFAULT_STATUS, code: str = DEFAULT_CODE, details: Any = None
) -> Exception:
    """An error a validator raises to answer with exactly `message` (and this status, code
    and details, when given): `raise invalid("'name' is required")`."""
    # the text is passed as context so that braces in it are never read as placeholders
    context = {"text": message, "status": status}
    if details is not None:
        context["details"] = details
    return PydanticCustomError(code, "{text}", context)


def refuse(message: str, *, status: int = DEFAULT_STATUS, code: str = DEFAULT_CODE) -> Any:
    """Annotated metadata: any fault of this field answers with exactly `message`,
    `image_id: Annotated[str, Field(min_length=1), refuse("send ...")]`."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise invalid(message, status=status, code=code) from None

    return WrapValidator(check)


def field_path(loc: tuple[int | str, ...]) -> str:
    """('features', 3, 'geometry') -> 'features[3].geometry'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _custom_text(error: ErrorDetails) -> str | None:
    """The exact text a validator chose, or None for pydantic's own errors."""
    context = error.get("ctx") or {}
    if error["type"] == "value_error":
        return str(context.get("error", error["msg"]))
    if error["type"] == "assertion_error":
        return None
    if "text" in context and "status" in context:
        return str(context["text"])
    return None


def _status(error: ErrorDetails) -> tuple[int, str]:
    context = error.get("ctx") or {}
    if "status" in context and "text" in context:
        return int(context["status"]), error["type"]
    cause = context.get("error")
    if isinstance(cause, Exception) and type(cause) is not ValueError:
        for exc_class, status, code in STATUS_TABLE:
            if isinstance(cause, exc_class):
                return status, code
    return DEFAULT_STATUS, DEFAULT_CODE


def sentence(error: ErrorDetails) -> str:
    """One sentence saying what is wrong, naming the field path."""
    custom = _custom_text(error)
    if custom is not None:
        return custom
    path = field_path(tuple(error["loc"]))
    kind = error["type"]
    if kind == "missing":
        return f"'{path}' is required"
    if kind == "extra_forbidden":
        return f"'{path}' is not a field of this request"
    message = error["msg"]
    message = message[:1].lower() + message[1:]
    return f"{path}: {message}" if path else message


def request_error(exc: ValidationError) -> RequestError:
    """The error envelope of a failed validation: the first error's sentence and status,
    every error in `details` as {"loc", "msg", "type"}."""
    found = exc.errors(include_url=False, include_input=False)
    if not found:  # pragma: no cover - pydantic never raises an empty ValidationError
        return RequestError("the request is not valid", status=DEFAULT_STATUS, code=DEFAULT_CODE)
    details = [
        {"loc": field_path(tuple(error["loc"])), "msg": sentence(error), "type": error["type"]}
        for error in found
    ]
    status, code = _status(found[0])
    chosen = (found[0].get("ctx") or {}).get("details")
    return RequestError(
        sentence(found[0]),
        status=status,
        code=code,
        details=chosen if chosen is not None else details,
    )
