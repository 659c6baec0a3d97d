"""annotator.api.contract: one decorator validates a route's body and query into pydantic
models and answers a bad request with the usual error envelope."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from flask import Flask, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, field_validator

from annotations.errors import Malformed, NotFound
from annotations.labels.taxonomy import load_taxonomy
from annotator import errors
from annotator.api import openapi
from annotator.api.contract import component, field_path, invalid, operation, operation_of


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=10)
    count: int = Field(default=1, ge=1, le=100)
    tags: list[str] = []
    label: Annotated[str | None, component("LabelId")] = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if value.strip() == "":
            raise ValueError("'name' must not be blank")
        if value == "{brace}":
            raise invalid("a name like {brace} is {not} allowed", status=409, code="conflict")
        if value == "listed":
            raise invalid("pick one of a, b", details={"choices": ["a", "b"]})
        if value == "gone":
            raise NotFound("no such thing: gone")
        if value == "shape":
            raise Malformed("not the shape asked for")
        return value


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    things: list[Thing]


class ThingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=10)
    count: int | None = Field(default=None, ge=1, le=100)


class Search(BaseModel):
    """The search."""

    limit: Annotated[int, Field(ge=1, le=50, description="Most things.")] = 10
    status: list[str] | None = None
    q: str | None = None


def make_small_app(*, plain: bool = True) -> Flask:
    app = Flask(__name__)
    app.config["MAX_JSON_MB"] = 1
    app.extensions["annotator.labels"] = load_taxonomy()
    errors.init_app(app)

    @app.post("/api/v1/things")
    @operation(
        "createThing",
        summary="Create a thing",
        tags=("things",),
        body=Thing,
        responses={201: Thing},
        errors=(409, 422),
        security="write",
    )
    def create(body: Thing) -> tuple[Response, int]:
        return jsonify({**body.model_dump(), "sent": sorted(body.model_fields_set)}), 201

    @app.post("/api/v1/groups")
    @operation("createGroup", summary="Create things", body=Group)
    def group(body: Group) -> Response:
        return jsonify(len(body.things))

    @app.get("/api/v1/things")
    @operation("listThings", summary="List things", query=Search)
    def search(query: Search) -> Response:
        return jsonify(query.model_dump())

    @app.route("/api/v1/things/<thing>", methods=["PUT", "PATCH"])
    @operation("replaceThing", summary="Replace a thing", body=Thing, method="PUT")
    @operation("updateThing", summary="Change a thing", body=ThingPatch, method="PATCH")
    def edit(thing: str, body: Thing | ThingPatch) -> Response:
        return jsonify({"model": type(body).__name__, "sent": sorted(body.model_fields_set)})

    if plain:

        @app.get("/api/v1/plain")
        def plain_view() -> str:
            return "plain"

    @app.get("/elsewhere/plain")
    def elsewhere() -> str:
        return "not documented: outside /api/v1/ and /tiles/"

    return app


@pytest.fixture
def small_app() -> Flask:
    return make_small_app()


def post(app: Flask, url: str, body: Any) -> tuple[int, Any]:
    response = app.test_client().post(url, json=body)
    return response.status_code, response.get_json()


def test_a_valid_body_reaches_the_view_as_a_model(small_app: Flask) -> None:
    status, body = post(small_app, "/api/v1/things", {"name": "apron", "tags": ["a"]})
    assert status == 201
    assert body == {
        "name": "apron",
        "count": 1,
        "tags": ["a"],
        "label": None,
        "sent": ["name", "tags"],
    }


def test_a_constraint_becomes_422_invalid_naming_the_field(small_app: Flask) -> None:
    status, body = post(small_app, "/api/v1/things", {"name": "apron", "count": 0})
    assert status == 422
    assert body["error"] == "invalid"
    assert body["message"].startswith("count: ")
    assert "greater than or equal to 1" in body["message"]
    assert body["details"] == [
        {"loc": "count", "msg": body["message"], "type": "greater_than_equal"}
    ]


def test_missing_and_unknown_fields(small_app: Flask) -> None:
    status, body = post(small_app, "/api/v1/things", {"colour": "red"})
    assert status == 422
    assert body["message"] == "'name' is required"
    assert [d["loc"] for d in body["details"]] == ["name", "colour"]
    assert body["details"][1]["msg"] == "'colour' is not a field of this request"


def test_a_custom_text_is_kept_word_for_word(small_app: Flask) -> None:
    status, body = post(small_app, "/api/v1/things", {"name": "  "})
    assert (status, body["error"], body["message"]) == (422, "invalid", "'name' must not be blank")
    status, body = post(small_app, "/api/v1/things", {"name": "{brace}"})
    assert (status, body["error"]) == (409, "conflict")
    assert body["message"] == "a name like {brace} is {not} allowed"
    status, body = post(small_app, "/api/v1/things", {"name": "listed"})
    assert (status, body["message"], body["details"]) == (
        422,
        "pick one of a, b",
        {"choices": ["a", "b"]},
    )


def test_a_domain_error_in_a_validator_keeps_its_status(small_app: Flask) -> None:
    status, body = post(small_app, "/api/v1/things", {"name": "gone"})
    assert (status, body["error"], body["message"]) == (404, "not_found", "no such thing: gone")
    status, body = post(small_app, "/api/v1/things", {"name": "shape"})
    assert (status, body["error"]) == (400, "malformed")


def test_the_path_of_a_nested_error(small_app: Flask) -> None:
    things = [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d", "count": "many"}]
    status, body = post(small_app, "/api/v1/groups", {"things": things})
    assert status == 422
    assert body["message"].startswith("things[3].count: ")
    assert body["details"][0]["loc"] == "things[3].count"
    assert field_path(("features", 3, "geometry")) == "features[3].geometry"


def test_the_body_rules_of_json_body_still_apply(small_app: Flask) -> None:
    client = small_app.test_client()
    not_json = client.post("/api/v1/things", data="name=x", content_type="text/plain")
    assert (not_json.status_code, not_json.get_json()["error"]) == (415, "unsupported_media_type")
    nan = client.post("/api/v1/things", data='{"name": NaN}', content_type="application/json")
    assert nan.status_code == 400
    array = client.post("/api/v1/things", json=[1])
    assert array.get_json()["message"] == "the JSON body must be an object"
    big = client.post("/api/v1/things", json={"name": "x" * (2 * 1024 * 1024)})
    assert big.status_code == 413


def test_the_query_string(small_app: Flask) -> None:
    client = small_app.test_client()
    assert client.get("/api/v1/things").get_json() == {"limit": 10, "status": None, "q": None}
    answer = client.get("/api/v1/things?limit=5&status=draft,reviewed&status=approved&q=x&other=1")
    assert answer.get_json() == {
        "limit": 5,
        "status": ["draft", "reviewed", "approved"],
        "q": "x",
    }
    bad = client.get("/api/v1/things?limit=500")
    assert bad.status_code == 422 and bad.get_json()["message"].startswith("limit: ")


def test_the_contract_is_recorded_on_the_view(small_app: Flask) -> None:
    recorded = operation_of(small_app.view_functions["create"])
    assert recorded is not None
    assert recorded.operation_id == "createThing"
    assert recorded.body is Thing and dict(recorded.responses) == {201: Thing}
    assert recorded.errors == (409, 422) and recorded.security == "write"
    assert operation_of(small_app.view_functions["plain_view"]) is None
    listed = operation_of(small_app.view_functions["search"])
    assert (
        listed is not None and listed.security == "read" and dict(listed.responses) == {200: None}
    )


def test_one_view_with_a_contract_per_method(small_app: Flask) -> None:
    client = small_app.test_client()
    put = client.put("/api/v1/things/a", json={"name": "b"})
    assert put.get_json() == {"model": "Thing", "sent": ["name"]}
    patch = client.patch("/api/v1/things/a", json={"count": 3})
    assert patch.get_json() == {"model": "ThingPatch", "sent": ["count"]}
    assert client.put("/api/v1/things/a", json={"count": 3}).status_code == 422
    assert client.patch("/api/v1/things/a", json={"count": 0}).status_code == 422
    view = small_app.view_functions["edit"]
    put_contract, patch_contract = operation_of(view, "PUT"), operation_of(view, "patch")
    assert put_contract is not None and put_contract.operation_id == "replaceThing"
    assert patch_contract is not None and patch_contract.operation_id == "updateThing"
    assert operation_of(view, "GET") is None


def test_the_document_is_derived_from_the_contracts() -> None:
    app = make_small_app(plain=False)  # a view without a contract is refused, see below
    document = openapi.build(load_taxonomy(), app=app)
    paths = document["paths"]
    assert set(paths) == {"/api/v1/things", "/api/v1/groups", "/api/v1/things/{thing}"}
    create = paths["/api/v1/things"]["post"]
    assert create["operationId"] == "createThing" and create["tags"] == ["things"]
    assert create["security"] == openapi.WRITE_SECURITY
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Thing"}
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "415", "422"}
    assert create["responses"]["409"] == {"$ref": "#/components/responses/Conflict"}
    thing = document["components"]["schemas"]["Thing"]
    assert thing["properties"]["count"]["maximum"] == 100
    # the placeholder of contract.component, and no null default a $ref does not take
    assert thing["properties"]["label"] == {
        "$ref": "#/components/schemas/LabelId",
        "title": "Label",
    }
    assert thing["additionalProperties"] is False
    listed = paths["/api/v1/things"]["get"]
    assert "security" not in listed and set(listed["responses"]) == {"200", "401"}
    limit, status, q = listed["parameters"]
    assert limit == {
        "name": "limit",
        "in": "query",
        "description": "Most things.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
    }
    assert (status["style"], status["explode"]) == ("form", False) and "title" not in q["schema"]
    edit = paths["/api/v1/things/{thing}"]
    assert (edit["put"]["operationId"], edit["patch"]["operationId"]) == (
        "replaceThing",
        "updateThing",
    )
    assert edit["put"]["parameters"] == [
        {"name": "thing", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert edit["patch"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingPatch"
    }


def test_a_documented_route_without_a_contract_is_refused(small_app: Flask) -> None:
    with pytest.raises(LookupError, match="GET /api/v1/plain: its view has no operation"):
        openapi.build(load_taxonomy(), app=small_app)
