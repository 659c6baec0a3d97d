"""annotations.feature: one pydantic model checks a GeoJSON Feature for the API, the importers
and the command line, with the domain's errors and today's sentences, first fault first."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from annotations import feature as feature_rules
from annotations.errors import AnnotationError, InvalidInput, Malformed
from annotations.feature import FeatureInput, parse_feature
from annotations.labels.taxonomy import Taxonomy, UnknownLabel, load_taxonomy

BOX = [
    [35.9470, 35.4040],
    [35.9478, 35.4040],
    [35.9478, 35.4046],
    [35.9470, 35.4046],
    [35.9470, 35.4040],
]
POINT = {"type": "Point", "coordinates": [35.9474, 35.4043]}


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def feature(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [BOX]},
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": "0123456789abcdef0123456789abcdef",
            "shape": "rotated-box",
            **properties,
        },
    }


def refusal(data: Any, taxonomy: Taxonomy, **options: Any) -> AnnotationError:
    with pytest.raises(AnnotationError) as caught:
        parse_feature(data, taxonomy, **options)
    return caught.value


COUNT = "properties.count must be a whole number from 1 to 100000"
NOTES = "properties.notes must be text of at most 10000 characters"
CASES: list[tuple[dict[str, Any], type[AnnotationError], str]] = [
    (
        {"label": None},
        InvalidInput,
        "properties.label is required: a label id such as "
        "'aircraft.transport.an-124' (see GET /api/v1/labels)",
    ),
    ({"label": ""}, InvalidInput, "properties.label is required"),
    ({"label": 7}, InvalidInput, "properties.label is required"),
    ({"label": "aircraft.nope"}, UnknownLabel, "unknown label 'aircraft.nope'; closest labels:"),
    ({"image_id": ""}, InvalidInput, "properties.image_id is required: the image it was seen on"),
    ({"image_id": 12}, InvalidInput, "properties.image_id is required: the image it was seen on"),
    (
        {"shape": "circle"},
        InvalidInput,
        "properties.shape 'circle' is not one of point, box, rotated-box, polygon, line",
    ),
    ({"shape": None}, InvalidInput, "properties.shape None is not one of"),
    ({"shape": "point"}, InvalidInput, "a point needs a Point or MultiPoint geometry, not Polygon"),
    (
        {"confidence": "sure"},
        InvalidInput,
        "properties.confidence must be one of confirmed, probable, possible",
    ),
    ({"confidence": None}, InvalidInput, "properties.confidence must be one of"),
    ({"count": 0}, InvalidInput, COUNT),
    ({"count": 100_001}, InvalidInput, COUNT),
    ({"count": True}, InvalidInput, COUNT),
    ({"count": 2.0}, InvalidInput, COUNT),
    ({"count": "2"}, InvalidInput, COUNT),
    ({"count": None}, InvalidInput, COUNT),
    ({"attributes": "heavy"}, InvalidInput, "properties.attributes must be an object"),
    (
        {"attributes": {"wingspan": 3}},
        InvalidInput,
        "attributes do not fit label aircraft.transport.an-124: unknown attribute 'wingspan'",
    ),
    ({"notes": 5}, InvalidInput, NOTES),
    ({"notes": "x" * 10_001}, InvalidInput, NOTES),
    ({"observed_at": 12}, InvalidInput, "properties.observed_at must be an ISO 8601 time"),
    (
        {"observed_at": "yesterday"},
        InvalidInput,
        "properties.observed_at 'yesterday' is not ISO 8601 (e.g. 2024-12-13T08:21:00Z)",
    ),
]


@pytest.mark.parametrize(("properties", "error", "words"), CASES, ids=[str(c[0]) for c in CASES])
def test_each_member_is_refused_with_its_own_sentence(
    taxonomy: Taxonomy, properties: dict[str, Any], error: type[AnnotationError], words: str
) -> None:
    found = refusal(feature(**properties), taxonomy)
    assert type(found) is error
    assert found.message.startswith(words), found.message


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ("POINT (1 2)", Malformed, "the body must be a GeoJSON Feature ({'type': 'Feature', ...})"),
        ({"type": "Thing"}, Malformed, "the body must be a GeoJSON Feature"),
        ({**feature(), "crs": {"type": "name"}}, InvalidInput, "the Feature carries a 'crs'"),
        ({**feature(), "properties": None}, Malformed, "'properties' must be an object"),
        ({**feature(), "properties": ["a"]}, Malformed, "'properties' must be an object"),
        ({"type": "Feature", "properties": {}}, Malformed, "the Feature has no 'geometry'"),
        ({**feature(), "geometry": {"type": "Circle"}}, Malformed, "geometry type 'Circle'"),
    ],
)
def test_what_is_not_a_feature_is_malformed(
    taxonomy: Taxonomy, data: Any, error: type[AnnotationError], words: str
) -> None:
    found = refusal(data, taxonomy)
    assert type(found) is error and found.message.startswith(words), found.message


def test_the_first_fault_is_the_one_reported_in_the_order_of_the_checks(
    taxonomy: Taxonomy,
) -> None:
    """properties must be an object before the geometry is read; the geometry before any
    member; then label, image, shape (against the geometry), confidence, count..."""
    bad_geometry = {"type": "Point", "coordinates": [200, 1]}
    both = {**feature(), "geometry": bad_geometry, "properties": "x"}
    assert refusal(both, taxonomy).message == "'properties' must be an object"
    geometry_first = {**feature(label=None), "geometry": bad_geometry}
    assert "longitude 200" in refusal(geometry_first, taxonomy).message
    assert "label" in refusal(feature(label=None, image_id=None), taxonomy).message
    shape_first = feature(shape="point", confidence="sure", count=0)
    assert refusal(shape_first, taxonomy).message.startswith("a point needs")
    assert refusal(feature(confidence="sure", count=0), taxonomy).message.startswith(
        "properties.confidence"
    )
    assert refusal(feature(count=0, notes=5), taxonomy).message == COUNT


def test_defaults_and_empty_values(taxonomy: Taxonomy) -> None:
    parsed = parse_feature(
        {
            "type": "Feature",
            "geometry": POINT,
            "properties": {
                "label": "vehicle.truck",
                "image_id": "i",
                "notes": None,
                "attributes": None,
                "label_name": "ignored",
                "status": "approved",
            },
            "id": "ignored too",
        },
        taxonomy,
    )
    assert (parsed.shape, parsed.confidence, parsed.count) == ("point", "probable", 1)
    assert (parsed.attributes, parsed.notes, parsed.observed_at) == ({}, "", None)
    timed = parse_feature(feature(observed_at="2024-12-13T10:21:00+02:00"), taxonomy)
    assert timed.observed_at == datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    state = parse_feature(feature(attributes={"state": "PARKED", "heading_deg": None}), taxonomy)
    assert state.attributes == {"state": "parked"}  # the taxonomy's spelling, nulls dropped


def test_a_patch_keeps_what_it_leaves_out(taxonomy: Taxonomy) -> None:
    base = parse_feature(feature(count=3, notes="nose door open"), taxonomy)
    patched = parse_feature({"type": "Feature", "properties": {"count": 4}}, taxonomy, base=base)
    assert patched.count == 4 and patched.notes == "nose door open"
    assert patched.geometry.equals(base.geometry) and patched.shape == "rotated-box"
    same = parse_feature({"type": "Feature", "properties": None}, taxonomy, base=base)
    assert same == base
    moved = parse_feature(
        {"type": "Feature", "geometry": POINT, "properties": {"shape": "point"}},
        taxonomy,
        base=base,
    )
    assert moved.geometry.geom_type == "Point" and moved.count == 3
    # the merged whole is checked: a rotated-box keeps needing a polygon
    found = refusal({"type": "Feature", "geometry": POINT}, taxonomy, base=base)
    assert found.message == "a rotated-box needs a Polygon geometry, not Point"
    found = refusal({"type": "Feature", "properties": {"label": None}}, taxonomy, base=base)
    assert found.message.startswith("properties.label is required")


def test_a_missing_taxonomy_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(TypeError, match="context"):
        FeatureInput.model_validate(feature())


def test_the_schema_lists_the_constants_when_it_is_made(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = FeatureInput.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema["$defs"]
    assert defs["Shape"]["enum"] == list(feature_rules.SHAPES)
    assert defs["Confidence"]["enum"] == list(feature_rules.CONFIDENCES)
    properties = defs["AnnotationPropertiesInput"]
    assert properties["required"] == ["label", "image_id"]
    assert properties["properties"]["notes"]["maxLength"] == feature_rules.NOTES_LIMIT
    assert properties["properties"]["count"]["maximum"] == feature_rules.COUNT_MAX
    assert schema["not"] == {"required": ["crs"]}
    monkeypatch.setattr(feature_rules, "SHAPES", (*feature_rules.SHAPES, "ellipse"))
    monkeypatch.setitem(feature_rules.GEOMETRY_TYPES_BY_SHAPE, "ellipse", ("Polygon",))
    changed = FeatureInput.model_json_schema(ref_template="#/components/schemas/{model}")
    assert changed["$defs"]["Shape"]["enum"][-1] == "ellipse"
    assert len(changed["allOf"]) == len(schema["allOf"]) + 1


def test_the_model_never_answers_with_a_pydantic_error(taxonomy: Taxonomy) -> None:
    """Every fault is a domain error; a ValidationError would be a sentence nobody wrote."""
    for properties, _, _ in CASES:
        data = deepcopy(feature(**properties))
        try:
            FeatureInput.model_validate(data, context={"taxonomy": taxonomy})
        except ValidationError as exc:  # pragma: no cover - the assertion below fails
            raise AssertionError(f"{properties}: {exc}") from exc
        except AnnotationError:
            pass
