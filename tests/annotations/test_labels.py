"""The label taxonomy: shipped labels and sizes, lookups, attribute schemas, extensions."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from annotations.errors import AnnotationError, InvalidInput
from annotations.labels.taxonomy import (
    DEFAULT_PATH,
    EXTENSION_FILENAME,
    Taxonomy,
    TaxonomyError,
    UnknownLabel,
    in_branch,
    load_taxonomy,
)

REQUIRED = [
    *(
        f"aircraft.transport.{t}"
        for t in ["an-124", "il-76", "il-62", "an-12", "an-26", "an-30", "an-72", "tu-154"]
    ),
    *(f"aircraft.transport.{t}" for t in ["c-17", "c-5", "c-130"]),
    *(f"aircraft.combat.{t}" for t in ["su-24", "su-25", "su-30sm", "su-34", "su-35"]),
    *(f"aircraft.helicopter.{t}" for t in ["mi-8", "mi-24", "ka-52"]),
    "aircraft.unknown.large",
    "aircraft.unknown.small",
    *(f"vehicle.{t}" for t in ["convoy", "truck", "armoured", "tank", "artillery", "air-defence"]),
    "ship",
    "structure.hangar",
    "structure.revetment",
    "structure.tent",
    "activity.loading",
    "activity.fire",
    "activity.crater",
]

AN_124 = "aircraft.transport.an-124"
IL_76 = "aircraft.transport.il-76"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def write_extension(folder: Path, entries: Any) -> Path:
    path = folder / EXTENSION_FILENAME
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


# --- the shipped taxonomy --------------------------------------------------------------------


def test_every_label_the_issue_names_is_shipped(taxonomy: Taxonomy) -> None:
    missing = [label_id for label_id in REQUIRED if label_id not in taxonomy]
    assert missing == []
    for label in taxonomy:
        assert label.parent is None or label.parent in taxonomy, label.id
        assert label.colour.startswith("#") and len(label.colour) == 7


def test_shipped_file_loads_alone_and_matches_the_api_shape(taxonomy: Taxonomy) -> None:
    alone = Taxonomy.load(DEFAULT_PATH, None)
    assert [label.id for label in alone] == [label.id for label in taxonomy]
    served = json.loads(json.dumps(taxonomy.to_dict()))
    an_124 = next(entry for entry in served["labels"] if entry["id"] == AN_124)
    assert an_124["name"] == "Antonov An-124 Ruslan"
    assert an_124["parent"] == "aircraft.transport"
    assert "Ruslan" in an_124["aliases"]
    assert an_124["attributes"]["heading_deg"] == {
        "type": "number",
        "min": 0,
        "max": 360,
        "unit": "deg",
        "description": "direction the nose points, clockwise from north",
    }
    assert "nose door open" in an_124["attributes"]["state"]["values"]
    assert an_124["reference"]["checked"] is True


def test_an_124_and_il_76_reference_sizes_with_sources(taxonomy: Taxonomy) -> None:
    an_124 = taxonomy.get(AN_124).reference
    assert an_124 is not None
    assert (an_124.length_m, an_124.span_m, an_124.checked) == (68.96, 73.3, True)
    assert an_124.source
    il_76 = taxonomy.get(IL_76).reference
    assert il_76 is not None
    assert il_76.length_m == pytest.approx(46.6, abs=0.01)
    assert il_76.span_m == 50.5
    assert il_76.checked and il_76.source


def test_reference_figures_keep_their_checked_status(taxonomy: Taxonomy) -> None:
    def reference(label_id: str) -> Any:
        return taxonomy.get(label_id).reference

    assert reference("aircraft.transport.an-72").checked is False
    assert reference("aircraft.combat.su-25").checked is False
    assert "span" in reference("aircraft.combat.su-25").note
    su_24 = reference("aircraft.combat.su-24")
    assert (su_24.span_m, su_24.span_swept_m) == (17.64, 10.37)
    assert su_24.length_m_range == (22.6, 24.6)
    assert reference("aircraft.helicopter.mi-8").span_m == 21.3  # rotor diameter
    truck = reference("vehicle.truck")
    assert truck.checked is False and "unsourced" in truck.source
    for label in taxonomy.branch("aircraft.transport")[1:]:
        assert label.reference is not None and label.reference.source, label.id


def test_attributes_are_inherited_and_can_be_overridden(taxonomy: Taxonomy) -> None:
    assert set(taxonomy.get(AN_124).attributes) >= {"heading_deg", "state"}
    helicopter_states = taxonomy.get("aircraft.helicopter.mi-8").attributes["state"].values
    assert "rotors turning" in helicopter_states and "nose door open" not in helicopter_states
    assert "count_estimate" in taxonomy.get("vehicle.convoy").attributes


# --- lookups -----------------------------------------------------------------------------------


def test_branch_matches_whole_segments_only(taxonomy: Taxonomy) -> None:
    transports = [label.id for label in taxonomy.branch("aircraft.transport")]
    assert transports[0] == "aircraft.transport"
    assert AN_124 in transports and IL_76 in transports
    assert all(in_branch(label_id, "aircraft.transport") for label_id in transports)
    assert "aircraft.combat.su-24" not in transports
    assert [label.id for label in taxonomy.branch(AN_124)] == [AN_124]
    with pytest.raises(UnknownLabel) as raised:
        taxonomy.branch("aircraft.trans")
    assert "aircraft.transport" in raised.value.details["closest"]
    assert not in_branch("aircraft.transport.an-124", "aircraft.trans")


def test_unknown_label_lists_the_closest(taxonomy: Taxonomy) -> None:
    with pytest.raises(UnknownLabel) as raised:
        taxonomy.get("aircraft.transport.an124")
    error = raised.value
    assert isinstance(error, InvalidInput) and isinstance(error, AnnotationError)
    assert error.details["closest"][0] == AN_124
    assert len(error.details["closest"]) == 5
    assert "'aircraft.transport.an124'" in error.message and AN_124 in error.message


def test_get_ignores_case(taxonomy: Taxonomy) -> None:
    assert taxonomy.get("Aircraft.Transport.AN-124").id == AN_124


def test_search_ranks_whole_and_prefix_matches_first(taxonomy: Taxonomy) -> None:
    assert taxonomy.search("124")[0].id == AN_124
    assert [label.id for label in taxonomy.search("il")[:2]] == [IL_76, "aircraft.transport.il-62"]
    assert taxonomy.search("ruslan")[0].id == AN_124
    assert taxonomy.search("An-124")[0].id == AN_124
    assert taxonomy.search("HIND")[0].id == "aircraft.helicopter.mi-24"
    assert taxonomy.search("transport")[0].id == "aircraft.transport"
    assert [label.id for label in taxonomy.search("unknown large")] == ["aircraft.unknown.large"]
    assert len(taxonomy.search("a", limit=3)) == 3
    assert taxonomy.search("   ") == []
    assert taxonomy.search("zzzz") == []


# --- attributes ------------------------------------------------------------------------------


def test_good_attributes_come_back_canonical(taxonomy: Taxonomy) -> None:
    cleaned = taxonomy.validate_attributes(
        AN_124,
        {"heading_deg": 172, "state": "Nose door open", "truncated": False, "registration": None},
    )
    assert cleaned == {"heading_deg": 172, "state": "nose door open", "truncated": False}
    assert taxonomy.validate_attributes("vehicle.convoy", {"count_estimate": 40.0}) == {
        "count_estimate": 40
    }
    assert taxonomy.validate_attributes(AN_124, None) == {}
    assert taxonomy.validate_attributes(AN_124, {}) == {}


@pytest.mark.parametrize(
    ("label_id", "attributes", "fragment"),
    [
        (AN_124, {"heading": 10}, "unknown attribute 'heading' (did you mean 'heading_deg'?)"),
        (AN_124, {"heading_deg": "north"}, "'heading_deg' must be a number"),
        (AN_124, {"heading_deg": 361}, "'heading_deg' 361 is above the maximum 360"),
        (AN_124, {"heading_deg": -1}, "'heading_deg' -1 is below the minimum 0"),
        (AN_124, {"state": "flying"}, "'flying' is not one of 'parked'"),
        (AN_124, {"heading_deg": True}, "'heading_deg' must be a number"),
        (AN_124, {"heading_deg": math.nan}, "'heading_deg' must be a finite number"),
        (AN_124, {"heading_deg": math.inf}, "'heading_deg' must be a finite number"),
        (AN_124, {"heading_deg": 10**400}, "'heading_deg' must be a finite number"),
        (AN_124, {"truncated": 1}, "'truncated' must be true or false"),
        (AN_124, {"registration": 7}, "'registration' must be a string"),
        ("vehicle.convoy", {"count_estimate": 2.5}, "'count_estimate' must be a whole number"),
        ("vehicle.convoy", {"count_estimate": False}, "'count_estimate' must be an integer"),
        ("vehicle.convoy", {"state": "nose door open"}, "is not one of"),
        ("structure.tent", {"heading_deg": 3}, "structure.tent takes: state, count_estimate"),
    ],
)
def test_attributes_that_do_not_fit_are_refused(
    taxonomy: Taxonomy, label_id: str, attributes: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        taxonomy.validate_attributes(label_id, attributes)
    assert fragment in raised.value.message
    assert set(raised.value.details["attributes"]) == set(attributes)


def test_every_bad_attribute_is_named_at_once(taxonomy: Taxonomy) -> None:
    with pytest.raises(InvalidInput) as raised:
        taxonomy.validate_attributes(AN_124, {"heading_deg": 400, "state": "x", "ok": 1})
    assert set(raised.value.details["attributes"]) == {"heading_deg", "state", "ok"}


def test_attributes_must_be_an_object_and_the_label_known(taxonomy: Taxonomy) -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        taxonomy.validate_attributes(AN_124, ["heading_deg"])
    with pytest.raises(UnknownLabel):
        taxonomy.validate_attributes("aircraft.transport.an-125", {})


# --- size ranking ----------------------------------------------------------------------------


def top(ranked: list[tuple[Any, float]], count: int = 1) -> list[str]:
    return [label.id for label, _ in ranked[:count]]


def test_rank_by_size_finds_the_big_transports(taxonomy: Taxonomy) -> None:
    ranked = taxonomy.rank_by_size(69, 73, 0.5)
    assert top(ranked) == [AN_124]
    assert ranked[0][1] < 1.0, "within tolerance"
    assert [score for _, score in ranked] == sorted(score for _, score in ranked)
    assert top(taxonomy.rank_by_size(73, 69, 0.5)) == [AN_124], "a box's long side may be span"
    assert top(taxonomy.rank_by_size(46.6, 50.5, 0.5)) == [IL_76]
    assert top(taxonomy.rank_by_size(50.5, 46.6, 0.5)) == [IL_76]


def test_rank_by_size_puts_fighters_first_for_a_fighter_sized_box(taxonomy: Taxonomy) -> None:
    ranked = taxonomy.rank_by_size(22, 14.7, 0.5)
    assert all(label_id.startswith("aircraft.combat.") for label_id in top(ranked, 4))
    assert all(label.reference is not None for label, _ in ranked)
    assert len(taxonomy.rank_by_size(14.7, 22, 0.5, max_score=1.0)) >= 3


def test_rank_by_size_tolerance_grows_with_pixel_size(taxonomy: Taxonomy) -> None:
    def score(gsd_m: float) -> float:
        return dict((label.id, s) for label, s in taxonomy.rank_by_size(64, 73, gsd_m))[AN_124]

    assert score(0.3) > 1.0 > score(2.0)


def test_rank_by_size_within_a_branch_and_bad_input(taxonomy: Taxonomy) -> None:
    vehicles = taxonomy.rank_by_size(7.4, 2.5, 0.3, branch="vehicle")
    assert all(label.id.startswith("vehicle.") for label, _ in vehicles)
    assert "vehicle.convoy" not in top(vehicles, len(vehicles))
    with pytest.raises(InvalidInput):
        taxonomy.rank_by_size(0, 10, 0.5)
    with pytest.raises(InvalidInput):
        taxonomy.rank_by_size(10, 10, math.nan)
    with pytest.raises(UnknownLabel):
        taxonomy.rank_by_size(10, 10, 0.5, branch="plane")


# --- a deployment's extension file -----------------------------------------------------------


def test_extension_adds_labels_and_overrides_defaults(tmp_path: Path) -> None:
    write_extension(
        tmp_path,
        [
            {
                "id": "aircraft.transport.an-225",
                "name": "Antonov An-225 Mriya",
                "colour": "#ABCDEF",
                "aliases": ["Mriya"],
                "reference": {
                    "length_m": 84.0,
                    "span_m": 88.4,
                    "source": "news reports of its destruction",
                    "checked": True,
                },
            },
            {"id": AN_124, "colour": "#ff0000", "aliases": ["Condor"]},
            {"id": "aircraft", "attributes": {"tail_code": {"type": "string"}}},
        ],
    )
    taxonomy = load_taxonomy(tmp_path)
    mriya = taxonomy.get("aircraft.transport.an-225")
    assert mriya.colour == "#abcdef" and mriya.parent == "aircraft.transport"
    assert "heading_deg" in mriya.attributes, "new labels inherit their parent's attributes"
    assert top(taxonomy.rank_by_size(84, 88, 0.5)) == ["aircraft.transport.an-225"]
    an_124 = taxonomy.get(AN_124)
    assert an_124.colour == "#ff0000"
    assert an_124.aliases == ("Condor",)
    assert an_124.name == "Antonov An-124 Ruslan", "fields not overridden stay"
    assert an_124.reference is not None and an_124.reference.length_m == 68.96
    assert taxonomy.validate_attributes(AN_124, {"tail_code": "RA-82010"}) == {
        "tail_code": "RA-82010"
    }
    assert taxonomy.search("mriya")[0].id == "aircraft.transport.an-225"


def test_a_changed_extension_file_is_read_again(tmp_path: Path) -> None:
    """Checked files are kept by their text: an edit of the same size is seen at once."""
    for colour in ("#111111", "#222222", "#111111"):
        write_extension(tmp_path, [{"id": "ship.tug", "name": "Tug", "colour": colour}])
        assert load_taxonomy(tmp_path).get("ship.tug").colour == colour
    write_extension(tmp_path, [{"id": "ship.tug", "name": "Tug", "colour": "#1111"}])
    with pytest.raises(TaxonomyError):
        load_taxonomy(tmp_path)


def test_missing_extension_file_means_defaults_only(tmp_path: Path) -> None:
    assert len(load_taxonomy(tmp_path)) == len(load_taxonomy())


def test_extension_may_use_the_api_shape(tmp_path: Path) -> None:
    write_extension(tmp_path, {"labels": [{"id": "ship.tug", "name": "Tug", "colour": "#123456"}]})
    assert load_taxonomy(tmp_path).get("ship.tug").name == "Tug"


@pytest.mark.parametrize(
    ("entries", "fragments"),
    [
        (
            [{"id": "ship.tug", "name": "Tug", "colour": "blue"}],
            ["entry 1 (ship.tug)", "colour 'blue' must be '#rrggbb'"],
        ),
        (
            [{"id": "ship.tug", "name": "Tug", "colour": "#12345"}],
            ["entry 1 (ship.tug)", "'#12345'"],
        ),
        (
            [
                {"id": "ship.tug", "name": "Tug", "colour": "#123456"},
                {"id": "Ship.Big Boat", "name": "Big", "colour": "#123456"},
            ],
            ["entry 2", "id 'Ship.Big Boat' must be dotted lowercase"],
        ),
        (
            [{"id": "ship..tug", "name": "Tug", "colour": "#123456"}],
            ["entry 1", "id 'ship..tug'"],
        ),
        (
            [
                {"id": "ship.tug", "name": "Tug", "colour": "#123456"},
                {"id": "ship.tug", "name": "Tug boat", "colour": "#123456"},
            ],
            ["entry 2 (ship.tug)", "duplicate id, already used by entry 1"],
        ),
        (
            [{"id": "boat.rib", "name": "RIB", "colour": "#123456"}],
            ["entry 1 (boat.rib)", "parent 'boat' is not defined"],
        ),
        (
            [{"id": "ship.tug", "name": "Tug", "colour": "#123456", "parent": "vehicle"}],
            ["entry 1 (ship.tug)", "parent 'vehicle' does not match"],
        ),
        (
            [{"id": "ship.tug", "colour": "#123456"}],
            ["entry 1 (ship.tug)", "'name' is required"],
        ),
        (
            [{"id": "ship.tug", "name": "Tug", "color": "#123456"}],
            ["'colour' is required", "unknown key 'color' (did you mean 'colour'?)"],
        ),
        (
            [{"id": AN_124, "reference": {"length_m": -1, "span_m": 73.3, "source": "x"}}],
            [f"entry 1 ({AN_124}): reference", "length_m must be a positive", "checked must"],
        ),
        (
            [{"id": "ship", "attributes": {"speed": {"type": "float"}}}],
            ["entry 1 (ship): attribute 'speed'", "type 'float' must be one of"],
        ),
        (
            [{"id": "ship", "attributes": {"size": {"type": "enum", "values": []}}}],
            ["attribute 'size'", "an enum needs 'values'"],
        ),
        (
            [{"id": "ship", "attributes": {"knots": {"type": "number", "min": 5, "max": 1}}}],
            ["attribute 'knots'", "min 5 is above max 1"],
        ),
        ([["ship.tug"]], ["entry 1", "must be a JSON object"]),
    ],
)
def test_bad_extension_entries_are_named(
    tmp_path: Path, entries: list[Any], fragments: list[str]
) -> None:
    path = write_extension(tmp_path, entries)
    with pytest.raises(TaxonomyError) as raised:
        load_taxonomy(tmp_path)
    message = raised.value.message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert raised.value.details["problems"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write_extension(
        tmp_path,
        [
            {"id": "ship.tug", "name": "Tug", "colour": "red"},
            {"id": "BAD", "name": "Bad", "colour": "#123456"},
        ],
    )
    with pytest.raises(TaxonomyError) as raised:
        load_taxonomy(tmp_path)
    assert len(raised.value.details["problems"]) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[{"id": "ship.tug", "name": "Tug",}]', "not valid JSON at line 1 column"),
        ('{"id": "ship.tug"}', "must hold a JSON list of label entries"),
        ('[{"id": "ship.tug", "id": "ship.tag", "name": "T", "colour": "#123456"}]', "twice"),
        (
            '[{"id": "ship.tug", "name": "T", "colour": "#123456", "description": '
            + "[" * 5000
            + "]" * 5000
            + "}]",
            "nested 5,002 levels deep",
        ),
    ],
)
def test_unreadable_extension_files_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / EXTENSION_FILENAME
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as raised:
        load_taxonomy(tmp_path)
    assert str(path) in raised.value.message
    assert fragment in raised.value.message


def test_a_broken_default_file_is_named_too(tmp_path: Path) -> None:
    default = tmp_path / "default.json"
    default.write_text(json.dumps([{"id": "ship", "name": "Ship", "colour": "#12"}]))
    with pytest.raises(TaxonomyError, match=r"default\.json: entry 1 \(ship\)"):
        Taxonomy.load(default, None)
    override_only = tmp_path / "partial.json"
    override_only.write_text(json.dumps([{"id": "ship", "colour": "#123456"}]))
    with pytest.raises(TaxonomyError, match="'name' is required"):
        Taxonomy.load(override_only, None)
