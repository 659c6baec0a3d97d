"""A site's timeline in the domain, on SQLite and PostGIS: its captures by date, counts per
label and capture with status filters, and the capture each one is compared with."""

from __future__ import annotations

import pytest

from annotations import annotation as store
from annotations.errors import InvalidInput, NotFound
from annotations.timeline import COUNTED_STATUSES, pair_for, parse_statuses, site_timeline
from tests.domain import AN_124, ANALYST, IL_76, TRUCK, World


def counted(domain: World, statuses: tuple[str, ...] = COUNTED_STATUSES) -> list[object]:
    """(image, [(label, annotations, objects), ...]) per capture, in the timeline's order."""
    with domain.database.read() as session:
        timeline = site_timeline(session, "hmeimim", statuses)
        names = {domain.dec_10: "dec_10", domain.dec_13: "dec_13", domain.undated: "undated"}
        return [
            (names[c.image.id], [(n.label, n.annotations, n.objects) for n in c.counts])
            for c in timeline.captures
        ]


@pytest.fixture
def counted_world(domain: World) -> World:
    """On the 10th: two An-124s and a rejected Il-76. On the 13th: one An-124 in review,
    a convoy of 40 trucks in one annotation and 3 more trucks, a draft Il-76 and a deleted
    An-124. Elsewhere: an An-124 (another site)."""
    with domain.database.write() as session:
        domain.annotation(session, image=domain.dec_10)
        domain.annotation(session, image=domain.dec_10, offset_m=40)
        domain.annotation(session, "rejected", image=domain.dec_10, label=IL_76)
        domain.annotation(session, "in_review", image=domain.dec_13)
        domain.annotation(session, image=domain.dec_13, label=TRUCK, count=40)
        domain.annotation(session, image=domain.dec_13, label=TRUCK, count=3, offset_m=40)
        domain.annotation(session, "draft", image=domain.dec_13, label=IL_76)
        deleted = domain.annotation(session, "draft", image=domain.dec_13, offset_m=-40)
        store.delete(session, deleted, ANALYST, deleted.version)
        domain.annotation(session, image=domain.elsewhere)
    return domain


def test_counts_per_capture_and_label(counted_world: World) -> None:
    assert counted(counted_world) == [
        ("dec_10", [(AN_124, 2, 2)]),
        ("dec_13", [(TRUCK, 2, 43), (AN_124, 1, 1), (IL_76, 1, 1)]),
        ("undated", []),  # unknown dates come last
    ]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("approved",), [("dec_10", [(AN_124, 2, 2)]), ("dec_13", [(TRUCK, 2, 43)])]),
        (("rejected",), [("dec_10", [(IL_76, 1, 1)]), ("dec_13", [])]),
        (("draft", "in_review"), [("dec_10", []), ("dec_13", [(AN_124, 1, 1), (IL_76, 1, 1)])]),
    ],
)
def test_counts_of_the_statuses_asked_for(
    counted_world: World, statuses: tuple[str, ...], expected: list[object]
) -> None:
    assert counted(counted_world, statuses) == [*expected, ("undated", [])]


def test_the_timeline_as_the_api_gives_it(counted_world: World) -> None:
    domain = counted_world
    with domain.database.read() as session:
        timeline = site_timeline(session, "hmeimim", ("approved",))
        assert timeline.labels == [TRUCK, AN_124]  # the most objects first
        assert [c.objects for c in timeline.captures] == [2, 43, 0]
        data = timeline.to_dict({AN_124: "Antonov An-124 Ruslan"})
        assert (data["site"], data["name"], data["statuses"]) == (
            "hmeimim",
            "Hmeimim",
            ["approved"],
        )
        first = data["captures"][0]
        assert first == {
            "image_id": domain.dec_10,
            "captured_at": "2024-12-10T08:21:00Z",
            "provider": "Test Provider",
            "gsd_m": first["gsd_m"],
            "synthetic": False,
            "objects": 2,
            "counts": [
                {
                    "label": AN_124,
                    "label_name": "Antonov An-124 Ruslan",
                    "annotations": 2,
                    "objects": 2,
                    "merged": 0,  # none marked the same object as another
                }
            ],
        }
        assert first["gsd_m"] == pytest.approx(0.5)
        assert data["captures"][2]["captured_at"] is None
        with pytest.raises(NotFound) as missing:
            site_timeline(session, "nowhere")
        assert missing.value.message.startswith("no site 'nowhere'")


def test_a_site_without_annotations_lists_its_captures(domain: World) -> None:
    with domain.database.read() as session:
        timeline = site_timeline(session, "elsewhere")
        assert [(c.image.id, c.counts) for c in timeline.captures] == [(domain.elsewhere, ())]
        assert timeline.labels == []


def test_status_filters_are_read_from_text() -> None:
    assert parse_statuses(None) == parse_statuses("") == ("draft", "in_review", "approved")
    assert parse_statuses("approved") == ("approved",)
    assert parse_statuses(" rejected, approved ,rejected") == ("rejected", "approved")
    for text, got in [("published", "published"), ("approved,nope", "nope"), (", ,", "', ,'")]:
        with pytest.raises(InvalidInput) as refused:
            parse_statuses(text)
        assert refused.value.message == (
            "status must be a comma-separated list of draft, in_review, approved, rejected; "
            f"got {got}"
        )


def test_each_capture_is_compared_with_the_one_before_else_the_next(domain: World) -> None:
    """The capture of unknown date is never taken as 'the next one'."""
    with domain.database.read() as session:
        pairs = {
            name: tuple(image.id for image in pair_for(session, getattr(domain, name)))
            for name in ("dec_10", "dec_13", "undated")
        }
        assert pairs["dec_13"] == (domain.dec_10, domain.dec_13)
        assert pairs["dec_10"] == (domain.dec_10, domain.dec_13)
        assert pairs["undated"] == (domain.undated, domain.dec_10)
        with pytest.raises(InvalidInput) as alone:
            pair_for(session, domain.elsewhere)
        assert alone.value.message == (
            f"image {domain.elsewhere} shares no site with another capture; pick two images to "
            "compare"
        )
