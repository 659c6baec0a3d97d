"""GET /api/v1/openapi.json: valid OpenAPI, every route documented, built from the validators."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from annotations import annotation as annotation_rules
from annotations import feature as feature_rules
from annotations import geometry as geometry_rules
from annotations.catalogue import geo as geo_rules
from annotations.catalogue import sites as sites_rules
from annotations.errors import AnnotationError
from annotations.feature import parse_feature
from annotations.search import DEFAULT_LIMIT, MAX_LIMIT
from annotator import services
from annotator.api import openapi
from annotator.api.contract import operation_of
from annotator.errors import STATUS_TABLE
from tests.conftest import login, make_app

Header = Callable[[str], dict[str, str]]
DOCUMENTED_PREFIXES = ("/api/v1/", "/tiles/")
OPERATIONS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def document(app: Flask, auth_header: Header) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json", headers=auth_header("viewer"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for one component schema, its $refs resolved."""
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(root)


def routes(app: Flask) -> dict[str, set[str]]:
    """Every rule under /api/v1 and /tiles as an OpenAPI path -> its methods."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED_PREFIXES):
            continue
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        found.setdefault(openapi.openapi_path(rule.rule), set()).update(methods)
    return found


# --- the document as a whole ---------------------------------------------------------------------


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_documented_with_exactly_its_methods(
    app: Flask, document: dict[str, Any]
) -> None:
    documented = {
        path: {key for key in item if key in OPERATIONS} for path, item in document["paths"].items()
    }
    actual = routes(app)
    assert "/api/v1/annotations/{annotation_id}" in actual  # the walk found the API
    assert actual == documented


def test_every_route_has_a_contract(app: Flask) -> None:
    without: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED_PREFIXES):
            continue
        view = app.view_functions[rule.endpoint]
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if operation_of(view, method) is None:
                without.add((rule.endpoint, method))
    assert "annotations.measure" in app.view_functions  # the walk found the API
    assert without == set()


def test_a_route_is_described_by_its_contract(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/sites"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SiteInput"
    }
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "415", "422"}
    assert create["responses"]["201"]["headers"]["Location"]
    site = document["components"]["schemas"]["SiteInput"]["properties"]
    assert site["name"]["maxLength"] == sites_rules.NAME_MAX
    assert site["radius_m"]["maximum"] == geo_rules.MAX_RADIUS_M
    timeline = document["paths"]["/api/v1/sites/{slug}/timeline"]["get"]["parameters"]
    assert timeline[0] == {"$ref": "#/components/parameters/SiteSlug"}
    assert timeline[1]["schema"]["items"] == {"$ref": "#/components/schemas/Status"}
    assert (timeline[1]["style"], timeline[1]["explode"]) == ("form", False)
    tile = document["paths"]["/tiles/{image_id}/{z}/{x}/{y}.{fmt}"]["get"]
    z = next(p for p in tile["parameters"] if p.get("name") == "z")
    assert z["schema"] == {"type": "integer", "minimum": 0}
    labels = document["paths"]["/api/v1/labels"]["get"]
    assert [p["name"] for p in labels["parameters"]] == ["q", "limit"]
    assert set(labels["responses"]) == {"200", "400", "401"}
    upload = document["paths"]["/api/v1/images"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/ImageUpload"}
    key = document["paths"]["/api/v1/docs"]["get"]
    assert key["security"] == [{"sessionCookie": []}] and set(key["responses"]) == {"200", "302"}


def test_path_parameters_match_the_templates(document: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]

    def resolve(item: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in item:
            resolved: dict[str, Any] = parameters[item["$ref"].rsplit("/", 1)[1]]
            return resolved
        return item

    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method in OPERATIONS & set(item):
            declared = [resolve(p) for p in item.get("parameters", [])]
            declared += [resolve(p) for p in item[method].get("parameters", [])]
            in_path = {p["name"] for p in declared if p["in"] == "path"}
            assert in_path == names, (path, method)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for key, operation in item.items()
        if key in OPERATIONS
    ]
    assert len(ids) == len(set(ids))


def test_security_schemes_errors_and_etags(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {
        "type": "apiKey", "in": "cookie", "name": "annotator_session",
        "description": schemes["sessionCookie"]["description"],
    }  # fmt: skip
    assert schemes["csrfToken"]["in"] == "header"
    assert schemes["csrfToken"]["name"] == "X-CSRF-Token"
    assert schemes["bearerToken"] == {
        "type": "http", "scheme": "bearer", "description": schemes["bearerToken"]["description"]
    }  # fmt: skip
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message", "details"]
    responses = document["components"]["responses"]
    wanted = {400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 428, 429, 503}
    assert set(openapi.error_statuses()) == wanted | {status for _, status, _ in STATUS_TABLE}
    for status in wanted | {status for _, status, _ in STATUS_TABLE}:
        response = responses[openapi.response_name(status)]
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    codes = {code for _, _, code in STATUS_TABLE}
    assert all(code in json.dumps(responses) for code in codes)
    # every write is either a signed-in browser with its CSRF token, or a bearer token
    for item in document["paths"].values():
        for method in {"post", "put", "patch", "delete"} & set(item):
            assert item[method]["security"] == openapi.WRITE_SECURITY
    edit = document["paths"]["/api/v1/annotations/{annotation_id}"]
    for method in ("put", "patch", "delete"):
        assert {"$ref": "#/components/parameters/IfMatch"} in edit[method]["parameters"]
        assert {"412", "428"} <= set(edit[method]["responses"])
        if method != "delete":
            assert "ETag" in edit[method]["responses"]["200"]["headers"]
    assert "304" in edit["get"]["responses"]
    upload = document["paths"]["/api/v1/images"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    assert {"413", "415"} <= set(document["paths"]["/api/v1/images"]["post"]["responses"])


def test_search_parameters(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/annotations"]["get"]
    names = [p["$ref"].rsplit("/", 1)[1] for p in operation["parameters"]]
    assert names == ["bbox", "site", "image", "label", "status", "datetime", "author", "report",
                     "event", "limit", "cursor", "download"]  # fmt: skip
    parameters = document["components"]["parameters"]
    assert parameters["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert parameters["limit"]["schema"]["default"] == DEFAULT_LIMIT
    assert parameters["status"]["style"] == "form" and parameters["status"]["explode"] is False


# --- built from the same constants as the validators ---------------------------------------------


def test_enums_are_the_validators_constants(app: Flask, document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    taxonomy = services.taxonomy(app)
    assert schemas["LabelId"]["enum"] == [label.id for label in taxonomy]
    assert schemas["Shape"]["enum"] == list(feature_rules.SHAPES)
    assert schemas["Confidence"]["enum"] == list(feature_rules.CONFIDENCES)
    assert schemas["Status"]["enum"] == list(annotation_rules.STATUSES)
    assert [r["$ref"].rsplit("/", 1)[1] for r in schemas["Geometry"]["oneOf"]] == list(
        geometry_rules.DEPTHS
    )
    notes = schemas["AnnotationPropertiesInput"]["properties"]["notes"]
    assert notes["maxLength"] == feature_rules.NOTES_LIMIT
    assert f"{geometry_rules.MAX_VERTICES:,}" in schemas["Geometry"]["description"]


def test_each_label_has_its_attribute_schema(app: Flask, document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for label in services.taxonomy(app):
        schema = schemas[openapi.attribute_schema_name(label.id)]
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == set(label.attributes)
        for name, spec in label.attributes.items():
            value = schema["properties"][name]
            assert value.get("minimum") == spec.min and value.get("maximum") == spec.max
            if spec.type == "enum":
                assert value["enum"] == [*spec.values, None]
            else:
                assert value["type"] == [spec.type, "null"]


@pytest.fixture
def extended_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose deployment adds a label with an attribute of its own."""
    instance = tmp_path / "instance"
    instance.mkdir()
    extra = [{"id": "aircraft.transport.test-lifter", "name": "Test lifter", "colour": "#123456",
              "attributes": {"payload_t": {"type": "number", "min": 0, "max": 150}}}]  # fmt: skip
    (instance / "labels.json").write_text(json.dumps(extra))
    application = make_app(tmp_path)
    yield application
    services.database(application).dispose()


def test_a_new_label_or_shape_changes_the_document(
    extended_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    taxonomy = services.taxonomy(extended_app)
    document = openapi.build(taxonomy, app=extended_app)
    schemas = document["components"]["schemas"]
    assert schemas["LabelId"]["enum"][-1] == "aircraft.transport.test-lifter"
    attributes = schemas["Attributes.aircraft.transport.test-lifter"]["properties"]
    assert attributes["payload_t"]["maximum"] == 150
    assert "heading_deg" in attributes  # inherited from 'aircraft'
    monkeypatch.setattr(feature_rules, "SHAPES", (*feature_rules.SHAPES, "ellipse"))
    monkeypatch.setitem(feature_rules.GEOMETRY_TYPES_BY_SHAPE, "ellipse", ("Polygon",))
    changed = openapi.build(taxonomy, app=extended_app)
    assert changed["components"]["schemas"]["Shape"]["enum"][-1] == "ellipse"
    validate(changed)


# --- the schemas accept and refuse what parse_feature does ---------------------------------------

BOX = [[35.9470, 35.4040], [35.9478, 35.4040], [35.9478, 35.4046], [35.9470, 35.4046],
       [35.9470, 35.4040]]  # fmt: skip


def feature(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [BOX]},
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": "0123456789abcdef0123456789abcdef",
            "shape": "rotated-box",
            "confidence": "confirmed",
            **properties,
        },
    }


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = deepcopy(base)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("valid", feature(), True),
    (
        "valid attributes",
        feature(attributes={"heading_deg": 172, "state": "parked", "truncated": False}),
        True,
    ),
    ("null attribute", feature(attributes={"heading_deg": None}), True),
    ("null notes", feature(notes=None), True),
    ("observed_at", feature(observed_at="2024-12-13T08:21:00Z"), True),
    ("no shape", changed(feature(), "properties.shape", KeyError), True),
    (
        "a line",
        changed(feature(shape="line"), "geometry", {"type": "LineString", "coordinates": BOX[:2]}),
        True,
    ),
    (
        "a point",
        changed(feature(shape="point"), "geometry", {"type": "Point", "coordinates": BOX[0]}),
        True,
    ),
    ("unknown shape", feature(shape="circle"), False),
    ("point shape on a polygon", feature(shape="point"), False),
    (
        "box of 5 corners",
        changed(
            feature(shape="box"), "geometry.coordinates", [[*BOX[:4], [35.9468, 35.4043], BOX[0]]]
        ),
        False,
    ),
    (
        "the same 5 corners as a polygon",
        changed(
            feature(shape="polygon"),
            "geometry.coordinates",
            [[*BOX[:4], [35.9468, 35.4043], BOX[0]]],
        ),
        True,
    ),
    ("unknown label", feature(label="aircraft.transport.an-12x"), False),
    ("no label", changed(feature(), "properties.label", KeyError), False),
    ("no image", changed(feature(), "properties.image_id", KeyError), False),
    ("attribute out of range", feature(attributes={"heading_deg": 400}), False),
    ("unknown attribute", feature(attributes={"wingspan": 3}), False),
    ("attribute of the wrong type", feature(attributes={"truncated": "yes"}), False),
    ("unknown enum value", feature(attributes={"state": "flying"}), False),
    ("attributes not an object", feature(attributes="heavy"), False),
    ("bad confidence", feature(confidence="sure"), False),
    ("count zero", feature(count=0), False),
    ("count too large", feature(count=feature_rules.COUNT_MAX + 1), False),
    ("count a boolean", feature(count=True), False),
    ("notes too long", feature(notes="x" * (feature_rules.NOTES_LIMIT + 1)), False),
    ("observed_at a number", feature(observed_at=12), False),
    (
        "geometry collection",
        changed(feature(), "geometry", {"type": "GeometryCollection", "geometries": []}),
        False,
    ),
    (
        "longitude out of range",
        changed(feature(), "geometry.coordinates", [[[200, 1], [201, 1], [201, 2], [200, 1]]]),
        False,
    ),
    (
        "a position of one number",
        changed(feature(shape="point"), "geometry", {"type": "Point", "coordinates": [35.9]}),
        False,
    ),
    ("crs", changed(feature(), "crs", {"type": "name"}), False),
    ("no geometry", changed(feature(), "geometry", KeyError), False),
    ("not a feature", changed(feature(), "type", "FeatureCollection"), False),
]


@pytest.mark.parametrize(("case", "data", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_the_feature_schema_agrees_with_parse_feature(
    app: Flask, document: dict[str, Any], case: str, data: dict[str, Any], accepted: bool
) -> None:
    try:
        parse_feature(data, services.taxonomy(app))
        parsed = True
    except AnnotationError:
        parsed = False
    errors = [e.message for e in validator(document, "FeatureInput").iter_errors(data)]
    assert parsed is accepted, case
    assert (not errors) is accepted, errors


def test_the_examples_are_valid(app: Flask, document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/annotations"]["post"]["requestBody"]["content"]
    example = create["application/geo+json"]["example"]
    assert not list(validator(document, "FeatureInput").iter_errors(example))
    parse_feature(example, services.taxonomy(app))
    site = document["paths"]["/api/v1/sites"]["post"]["requestBody"]["content"]
    assert not list(
        validator(document, "SiteInput").iter_errors(site["application/json"]["example"])
    )
    for response in document["components"]["responses"].values():
        body = response["content"]["application/json"]["example"]
        assert not list(validator(document, "Error").iter_errors(body))


# --- the real answers match what is documented ---------------------------------------------------


def test_real_errors_have_the_documented_shape_and_status(
    app: Flask, document: dict[str, Any], auth_header: Header
) -> None:
    client = app.test_client()
    viewer, analyst = auth_header("viewer"), auth_header("analyst")
    feature_body = feature()
    calls = [
        ("get", "/api/v1/sites", {}, None, 401),
        ("get", "/api/v1/sites/nowhere", viewer, None, 404),
        ("get", "/api/v1/annotations?limit=0", viewer, None, 422),
        ("get", "/api/v1/annotations?limit=many", viewer, None, 400),
        ("get", "/api/v1/annotations?status=lost", viewer, None, 422),
        ("post", "/api/v1/annotations", viewer, feature_body, 403),
        ("post", "/api/v1/annotations", analyst, {"type": "Point"}, 400),
        ("post", "/api/v1/annotations", analyst, feature(shape="circle"), 422),
        ("post", "/api/v1/annotations", analyst, feature_body, 404),  # no such image
        ("post", "/api/v1/sites", analyst, {"lon": 1, "lat": 2}, 422),
        ("get", "/tiles/0123456789abcdef0123456789abcdef/1/0/0.png", viewer, None, 404),
        ("get", "/tiles/0123456789abcdef0123456789abcdef/1/9/0.png", viewer, None, 400),
    ]
    error = validator(document, "Error")
    for method, url, headers, body, status in calls:
        response = client.open(url, method=method.upper(), headers=headers, json=body)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        assert not list(error.iter_errors(response.get_json())), response.get_json()
        path = _documented_path(document, url.partition("?")[0])
        assert str(status) in document["paths"][path][method]["responses"], (path, method, status)


def _documented_path(document: dict[str, Any], url: str) -> str:
    for path in document["paths"]:
        parts = re.split(r"({[^}]+})", path)
        pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        if re.fullmatch(pattern, url):
            return path
    raise AssertionError(f"{url} matches no documented path")


def test_a_real_annotation_matches_the_output_schema(app: Flask, document: dict[str, Any]) -> None:
    """The response schema describes what to_feature returns (no database needed)."""
    from annotations.annotation import Annotation

    row = Annotation(
        id="0123456789abcdef0123456789abcdef", image_id="fedcba9876543210fedcba9876543210",
        label="aircraft.transport.an-124", shape="rotated-box", confidence="confirmed", count=1,
        attributes_json='{"heading_deg": 172}', notes="", status="draft", version=1,
        geometry_geojson=json.dumps({"type": "Polygon", "coordinates": [BOX]}),
        measurements_json='{"length_m": 68.9, "width_m": 73.3}',
        source_json='{"image_sha256": "ab", "gsd_m": 0.5, "synthetic": true}',
        created_by="analyst", updated_by="analyst",
    )  # fmt: skip
    from datetime import UTC, datetime

    row.created_at = row.updated_at = datetime(2024, 12, 13, tzinfo=UTC)
    body = row.to_feature(label_name="Antonov An-124 Ruslan")
    assert not list(validator(document, "Annotation").iter_errors(body))
    documented = document["components"]["schemas"]["Annotation"]["properties"]["properties"]
    if "$ref" in documented:  # the members, described once as their own component
        documented = document["components"]["schemas"][documented["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == set(documented["properties"])


# --- access, caching, the page -------------------------------------------------------------------


def test_the_document_needs_a_signed_in_user_and_is_cacheable(
    app: Flask, auth_header: Header
) -> None:
    client = app.test_client()
    anonymous = client.get("/api/v1/openapi.json")
    assert anonymous.status_code == 401
    assert set(anonymous.get_json()) == {"error", "message", "details"}
    first = client.get("/api/v1/openapi.json", headers=auth_header("viewer"))
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(
        "/api/v1/openapi.json",
        headers={**auth_header("viewer"), "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304


def test_the_docs_page_sends_people_to_sign_in_first(app: Flask) -> None:
    response = app.test_client().get("/api/v1/docs")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/api/v1/docs")


def test_the_docs_page_loads_only_local_scripts(app: Flask) -> None:
    client = app.test_client()
    login(client, "viewer")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    addresses = re.findall(r'(?:src|href|action)="([^"]*)"', html)
    assert addresses and all(a.startswith("/") and not a.startswith("//") for a in addresses)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
    licence = client.get("/static/vendor/swagger-ui/LICENSE")
    assert "Apache License" in licence.get_data(as_text=True)
    licence.close()
