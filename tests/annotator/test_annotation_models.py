"""The annotations API's request models answer bad input with today's status, code and words
(annotator.api.models.annotations); the HTTP tests check the routes, these the sentences."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from annotations.errors import AnnotationError, InvalidInput, Malformed
from annotations.labels.taxonomy import Taxonomy, UnknownLabel, load_taxonomy
from annotator.api.contract import request_error
from annotator.api.models.annotations import (
    CopyRequest,
    NewAnnotations,
    Restore,
    ReviewRequest,
    SearchQuery,
    StatusChange,
)

BOX = [
    [35.9470, 35.4040],
    [35.9478, 35.4040],
    [35.9478, 35.4046],
    [35.9470, 35.4046],
    [35.9470, 35.4040],
]
ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def feature(**properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [BOX]},
        "properties": {"label": "aircraft.transport.an-124", "image_id": ID, **properties},
    }


def answer(model: type[BaseModel], data: Any, taxonomy: Taxonomy) -> tuple[int, str, str]:
    """(status, code, message) of a refusal, as the error handlers would send them."""
    try:
        model.model_validate(data, context={"taxonomy": taxonomy})
    except ValidationError as exc:
        error = request_error(exc)
        return error.status, error.code, error.message
    except AnnotationError as exc:
        kind = {Malformed: (400, "malformed")}.get(type(exc), (422, "invalid"))
        return *kind, exc.message
    raise AssertionError(f"{model.__name__} took {data!r}")


def test_a_collection_names_the_feature_at_fault(taxonomy: Taxonomy) -> None:
    bad = feature(label="aircraft.nope")
    with pytest.raises(UnknownLabel, match=r"^features\[1\]: unknown label 'aircraft.nope'"):
        NewAnnotations.model_validate(
            {"type": "FeatureCollection", "features": [feature(), bad]},
            context={"taxonomy": taxonomy},
        )
    # a collection of one says what a single Feature says
    with pytest.raises(InvalidInput, match=r"^properties.count must be a whole number"):
        NewAnnotations.model_validate(
            {"type": "FeatureCollection", "features": [feature(count=0)]},
            context={"taxonomy": taxonomy},
        )
    made = NewAnnotations.model_validate(
        {"type": "FeatureCollection", "features": [feature(), feature(count=2)]},
        context={"taxonomy": taxonomy},
    )
    assert [f.properties.count for f in made.features()] == [1, 2]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "FeatureCollection", "features": []}, "the FeatureCollection is empty"),
        (
            {"type": "FeatureCollection", "features": "all"},
            "send a GeoJSON Feature or FeatureCollection",
        ),
        ({"type": "Point", "coordinates": [1, 2]}, "send a GeoJSON Feature or FeatureCollection"),
        ({}, "send a GeoJSON Feature or FeatureCollection"),
    ],
)
def test_what_is_neither_a_feature_nor_a_collection(
    taxonomy: Taxonomy, data: dict[str, Any], message: str
) -> None:
    assert answer(NewAnnotations, data, taxonomy) == (400, "malformed", message)


STATUS = "send {'status': 'in_review' | 'approved' | 'rejected' | 'draft'}"
COMMENT = "'comment' must be text of at most 2000 characters"
COPY = "send {'image': '<id of the capture to copy the annotation to>'}"
IDS = "send 'ids': a list of annotation ids"
VERSIONS = "'versions' maps annotation ids to the version you saw (numbers)"
CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (StatusChange, {}, STATUS),
    (StatusChange, {"status": 3}, STATUS),
    (StatusChange, {"status": "approved", "comment": "x" * 2001}, COMMENT),
    (StatusChange, {"status": "approved", "comment": ["fine"]}, COMMENT),
    (Restore, {"version": True}, "'version' must be a whole number"),
    (Restore, {"version": 2.0}, "'version' must be a whole number"),
    (Restore, {"version": "2"}, "'version' must be a whole number"),
    (CopyRequest, {}, COPY),
    (CopyRequest, {"image": ""}, COPY),
    (CopyRequest, {"image": 7}, COPY),
    (ReviewRequest, {"ids": [ID]}, "send 'action': one of approve, reject"),
    (ReviewRequest, {"action": 1, "ids": [ID]}, "send 'action': one of approve, reject"),
    (ReviewRequest, {"action": "approve"}, IDS),
    (ReviewRequest, {"action": "approve", "ids": ID}, IDS),
    (ReviewRequest, {"action": "approve", "ids": [ID, 7]}, IDS),
    (ReviewRequest, {"action": "approve", "ids": [ID, ""]}, IDS),
    (ReviewRequest, {"action": "approve", "ids": [ID], "versions": {ID: "2"}}, VERSIONS),
    (ReviewRequest, {"action": "approve", "ids": [ID], "versions": {ID: 0}}, VERSIONS),
    (ReviewRequest, {"action": "approve", "ids": [ID], "versions": {ID: True}}, VERSIONS),
    (ReviewRequest, {"action": "approve", "ids": [ID], "versions": []}, VERSIONS),
    (
        ReviewRequest,
        {"action": "approve", "ids": [ID], "versions": {"f" * 32: 2, "e" * 32: 1}},
        f"'versions' names ids not in 'ids': {'e' * 32}, {'f' * 32}",
    ),
    (ReviewRequest, {"action": "approve", "ids": [ID], "comment": 5}, COMMENT),
]


@pytest.mark.parametrize(("model", "data", "message"), CASES)
def test_each_body_keeps_its_sentence(
    taxonomy: Taxonomy, model: type[BaseModel], data: dict[str, Any], message: str
) -> None:
    assert answer(model, data, taxonomy) == (422, "invalid", message)


def test_what_the_domain_decides_passes_the_models(taxonomy: Taxonomy) -> None:
    """An unknown status or action, an empty batch, version 0 to restore: the domain refuses
    them after the annotation is found and its version checked, as before."""
    context = {"taxonomy": taxonomy}
    assert StatusChange.model_validate({"status": "lost"}, context=context).status == "lost"
    review = ReviewRequest.model_validate({"action": "publish", "ids": []}, context=context)
    assert review.items() == []
    assert Restore.model_validate({"version": 0}, context=context).version == 0
    assert Restore.model_validate({}, context=context).version is None


@pytest.mark.parametrize(
    ("query", "answered"),
    [
        ({"limit": "many"}, (400, "bad_request", "limit must be a whole number")),
        ({"limit": ""}, (400, "bad_request", "limit must be a whole number")),
        ({"report": "12a"}, (400, "bad_request", "report must be a report id (a whole number)")),
        ({"event": "1" * 13}, (400, "bad_request", "event must be a event id (a whole number)")),
    ],
)
def test_the_search_query(
    taxonomy: Taxonomy, query: dict[str, Any], answered: tuple[int, str, str]
) -> None:
    assert answer(SearchQuery, query, taxonomy) == answered


def test_the_search_filters(taxonomy: Taxonomy) -> None:
    from annotations.catalogue.users import Role

    query = SearchQuery.model_validate(
        {"bbox": "1,2,3,4", "status": "draft,,in_review", "limit": "0", "report": "", "event": "7"}
    )
    filters = query.filters(Role.viewer)
    assert filters.bbox == (1, 2, 3, 4) and filters.status == ("draft", "in_review")
    assert (filters.limit, filters.report, filters.event) == (0, None, 7)  # 0: the search says
    with pytest.raises(InvalidInput, match="bbox must be four numbers"):
        SearchQuery.model_validate({"bbox": "1,2,3"}).filters(Role.viewer)
