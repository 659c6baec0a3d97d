"""The newsroom's request models (annotations.newsroom: reports, claims, events, links; and the
query strings of annotator.api.models.newsroom): the exact messages and statuses of the
domain's exceptions, whatever JSON is sent, PATCH by the fields sent, the limits documented
from the constants that check them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from annotations.errors import AnnotationError, InvalidInput, Malformed, NotFound
from annotations.newsroom import events, links, reports
from annotator.api.contract import request_error
from annotator.api.models import newsroom as models

#: a value of every JSON type, and the awkward ones
HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**40,
    "",
    " ",
    "\r\n",
    "x" * 1_000_001,
    [],
    [None],
    [5],
    ["a", 5],
    {},
    {"mode": "round"},
    {"mode": 5},
    {"exact": 5},
    {"selector": []},
]
VALID: dict[type[BaseModel], dict[str, Any]] = {
    reports.ReportInput: {"title": "A story", "url": "https://news.example.org/a"},
    reports.ReportPatch: {"outlet": "Example News"},
    reports.TextQuoteSelector: {"exact": "two aircraft", "prefix": "", "suffix": " at"},
    events.EventInput: {
        "site": "hmeimim",
        "title": "Airlift",
        "start": "2024-12-10",
        "end": "2024-12-14",
    },
    events.EventPatch: {"title": "Airlift, revised"},
    events.NewEvent: {
        "site": "hmeimim",
        "title": "Airlift",
        "start": "2024-12-10",
        "end": "2024-12-14",
        "annotation_ids": ["a" * 32],
    },
    events.EventMembers: {"annotation_ids": ["a" * 32]},
    links.LinkInput: {"annotation_id": "a" * 32, "report_id": 1, "stance": "supports"},
}


@pytest.mark.parametrize("model", list(VALID), ids=lambda model: model.__name__)
def test_any_json_is_taken_or_refused_with_a_domain_error(model: type[BaseModel]) -> None:
    """Never a pydantic ValidationError (the report form and the demo catch AnnotationError,
    and the API answers with the exception's own status): every field, every JSON type."""
    assert model.model_validate(VALID[model])
    names = set(model.model_fields) | {"selector", "colour"}
    refused = 0
    for name in sorted(names):
        for value in HOSTILE:
            try:
                model.model_validate({**VALID[model], name: value})
            except AnnotationError:
                refused += 1
            except ValidationError as exc:  # pragma: no cover - the failure this test finds
                pytest.fail(f"{model.__name__}.{name} = {str(value)[:40]!r}: {exc}")
    assert refused >= len(HOSTILE) // 2, "much of it is refused"


@pytest.mark.parametrize(
    ("model", "body", "error", "message"),
    [
        (reports.ReportInput, {}, InvalidInput, "'title' is required"),
        (reports.ReportInput, {"title": 5}, Malformed, "'title' must be text"),
        (
            reports.ReportInput,
            {"title": "t", "authors": [5]},
            Malformed,
            "'authors' must be a list of names",
        ),
        (
            reports.ReportInput,
            {"title": "t", "published_at": 5},
            Malformed,
            "'published_at' must be an ISO 8601 date or time",
        ),
        (
            reports.ReportInput,
            {"title": "t", "coarsening": {"mode": "round", "metres": 0}},
            InvalidInput,
            "coarsening metres must be between 1 and 100,000",
        ),
        (
            reports.ReportInput,
            {"title": "t", "colour": "red", "size": 1},
            InvalidInput,
            "unknown report fields: colour, size",
        ),
        (reports.ReportPatch, {"title": None}, InvalidInput, "'title' is required"),
        (
            reports.TextQuoteSelector,
            {"exact": " ", "prefix": 5},
            Malformed,
            "'prefix' must be text",
        ),
        (
            reports.TextQuoteSelector,
            {"selector": {"exact": "x" * 5001}},
            InvalidInput,
            "'exact' is longer than 5,000 characters",
        ),
        (
            events.EventInput,
            {"title": 5},
            InvalidInput,
            "'site' is required: the slug of the site (see GET /api/v1/sites)",
        ),
        (
            events.EventInput,
            {"site": "s", "title": "t", "start": "2024-12-10"},
            InvalidInput,
            "'end' is required: an ISO 8601 date or time",
        ),
        (
            events.NewEvent,
            {**VALID[events.NewEvent], "annotation_ids": "x"},
            Malformed,
            "send {'annotation_ids': ['<id>', ...]}",
        ),
        (
            events.NewEvent,
            {**VALID[events.NewEvent], "annotation_ids": ["a", 7]},
            NotFound,
            "no annotation 7",
        ),
        (events.EventMembers, {}, InvalidInput, "send {'annotation_ids': ['<id>', ...]}"),
        (
            events.EventMembers,
            {"annotation_ids": []},
            Malformed,
            "send {'annotation_ids': ['<id>', ...]}",
        ),
        (
            events.EventMembers,
            {"annotation_ids": ["a"] * 1001},
            InvalidInput,
            "at most 1000 annotations per request",
        ),
        (
            links.LinkInput,
            {"event_id": 1, "report_id": 1},
            InvalidInput,
            "'stance' must be one of supports, contradicts, context",
        ),
        (
            links.LinkInput,
            {"annotation_id": 5, "report_id": 1, "stance": "context"},
            Malformed,
            "'annotation_id' must be the annotation's id (text)",
        ),
        (
            links.LinkInput,
            {"event_id": "x", "report_id": 1, "stance": "context"},
            NotFound,
            "no event 'x'",
        ),
        (
            links.LinkInput,
            {"event_id": 1, "claim_id": 2**31, "stance": "context"},
            NotFound,
            "no claim 2147483648",
        ),
    ],
)
def test_the_first_fault_answers_in_its_own_words(
    model: type[BaseModel], body: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        model.model_validate(body)
    assert type(raised.value) is error
    assert str(raised.value) == message


def test_a_patch_changes_only_the_fields_sent() -> None:
    report = reports.Report(
        title="Before",
        url="https://a.example.org/x",
        outlet="Old",
        authors_json='["A"]',
        text="Some text.",
        coarsening="round",
        coarsen_m=500,
    )
    patch = reports.ReportPatch.model_validate({"outlet": None, "text": "New\r\ntext"})
    changed = reports.patched(report, patch)
    assert (changed.title, changed.url, changed.authors) == ("Before", report.url, ("A",))
    assert (changed.outlet, changed.text) == (None, "New\ntext")
    assert changed.coarsening == reports.Coarsening(mode="round", metres=500)
    assert reports.patched(report, reports.ReportPatch.model_validate({})) == (
        reports.as_input(report)
    )


def test_an_event_patch_keeps_the_window_in_order() -> None:
    base = events.EventInput.model_validate(VALID[events.EventInput])
    later = events.patched(base, events.EventPatch.model_validate({"end": "2024-12-20"}))
    assert (later.start, later.end) == (base.start, datetime(2024, 12, 20, tzinfo=UTC))
    assert later.site == base.site and later.title == base.title
    with pytest.raises(InvalidInput, match="the event ends before it starts"):
        events.patched(base, events.EventPatch.model_validate({"start": "2024-12-15"}))
    with pytest.raises(InvalidInput, match="'site' is required"):
        events.EventPatch.model_validate({"site": None})


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        (
            models.FigureQuery,
            {"width": "99"},
            "width must be a whole number of pixels from 100 to 8000",
        ),
        (
            models.FigureQuery,
            {"height": "\u00b2"},
            "height must be a whole number of pixels from 100 to 8000",
        ),
        (models.MapQuery, {"publication": "1x"}, "publication must be a publication number"),
        (models.Frozen, {"publication": ""}, "publication must be a publication number"),
    ],
)
def test_a_bad_query_string_is_a_400_naming_the_parameter(
    model: type[BaseModel], args: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(args)
    error = request_error(raised.value)
    assert (error.status, error.code, error.message) == (400, "bad_request", message)


def test_query_strings_read_as_today() -> None:
    figure = models.FigureQuery.model_validate(
        {"width": "8000", "height": "", "annotations": "a,,b"}
    )
    assert (figure.width, figure.height, figure.annotation_ids()) == (8000, None, ["a", "b"])
    assert models.FigureQuery.model_validate({}).annotation_ids() is None
    found = models.LinkQuery.model_validate({"report": "3", "claim": "", "annotation": ""})
    assert (found.report, found.claim, found.annotation, found.event) == (3, None, None, None)
    with pytest.raises(NotFound, match="no event 'x'"):
        models.LinkQuery.model_validate({"event": "x"})


def test_the_documented_limits_are_the_checked_constants() -> None:
    schema = reports.ReportInput.model_json_schema()
    properties = schema["properties"]
    assert schema["additionalProperties"] is False
    assert properties["title"]["maxLength"] == reports.TITLE_MAX
    assert properties["authors"]["maxItems"] == reports.AUTHORS_MAX
    assert schema["$defs"]["Coarsening"]["properties"]["mode"]["enum"] == list(
        reports.COARSENING_MODES
    )
    assert set(reports.REPORT_FIELDS) | set(reports.IGNORED_FIELDS) == set(properties)
    event = events.NewEvent.model_json_schema()
    assert event["required"] == ["site", "title", "start", "end"]
    assert event["properties"]["annotation_ids"]["maxItems"] == events.MEMBERS_PER_REQUEST
    link = links.LinkInput.model_json_schema()["properties"]
    assert link["stance"]["enum"] == list(links.STANCES)
    assert link["note"]["maxLength"] == links.NOTE_MAX
    figure = models.FigureQuery.model_json_schema()["properties"]["width"]
    assert (figure["minimum"], figure["maximum"]) == (100, 8000)
