"""Events in the domain, on SQLite and PostGIS: their window, their members (annotations of
their own site), the summary computed from them, roles, and a history row per change."""

from __future__ import annotations

import json

import pytest

from annotations import annotation as store
from annotations.annotation import Forbidden
from annotations.errors import AlreadyExists, InvalidInput, NotFound
from annotations.history import changes_of
from annotations.newsroom import events
from tests.domain import ANALYST, EDITOR, IL_76, TRUCK, VIEWER, World, changes


def test_an_event_is_made_edited_and_deleted_with_its_history(domain: World) -> None:
    with domain.database.write() as session:
        event = domain.event(session)
        assert event.to_dict("hmeimim") | {"created_at": None, "updated_at": None} == {
            "id": event.id,
            "site": "hmeimim",
            "title": "An-124 airlift",
            "description": "",
            "start": "2024-12-10T00:00:00Z",
            "end": "2024-12-14T00:00:00Z",
            "version": 1,
            "created_by": "anna",
            "created_at": None,
            "updated_by": "anna",
            "updated_at": None,
        }
        moved = events.parse_event(
            {"site": "elsewhere", "title": "Airlift", "start": "2024-12-11", "end": "2024-12-12"}
        )
        events.update_event(session, event, moved, ANALYST)
        assert (event.version, events.site_slug(session, event)) == (2, "elsewhere")
        with pytest.raises(Forbidden) as analyst:
            events.delete_event(session, event, ANALYST)
        assert analyst.value.message == "deleting an event needs the editor role; anna is analyst"
        events.delete_event(session, event, EDITOR)
        with pytest.raises(NotFound) as gone:
            events.get_event(session, event.id)
        assert gone.value.message == f"no event {event.id!r}"
        assert changes(session, "event", event.id) == [
            ("create", "anna"),
            ("edit", "anna"),
            ("delete", "eddie"),
        ]
        _, edit, delete = changes_of(session, "event", [event.id])
        before, after = json.loads(edit.before_json or ""), json.loads(edit.after_json or "")
        assert (before["site"], before["end"]) == ("hmeimim", "2024-12-14T00:00:00Z")
        assert (after["site"], after["end"]) == ("elsewhere", "2024-12-12T00:00:00Z")
        assert delete.after_json is None


def test_viewers_may_not_make_events_and_a_site_must_exist(domain: World) -> None:
    with domain.database.write() as session:
        data = events.parse_event(
            {"site": "hmeimim", "title": "t", "start": "2024-12-10", "end": "2024-12-11"}
        )
        with pytest.raises(Forbidden) as viewer:
            events.create_event(session, data, VIEWER)
        assert viewer.value.message == "adding an event needs the analyst role; vera is viewer"
        nowhere = events.parse_event(
            {"site": "nowhere", "title": "t", "start": "2024-12-10", "end": "2024-12-11"}
        )
        with pytest.raises(NotFound) as missing:
            events.create_event(session, nowhere, ANALYST)
        assert missing.value.message.startswith("no site 'nowhere'")
        assert events.list_events(session) == []


def test_events_are_listed_by_start_and_by_site(domain: World) -> None:
    with domain.database.write() as session:
        late = domain.event(session, "2024-12-12", "2024-12-13", title="late")
        early = domain.event(session, "2024-12-01", "2024-12-02", title="early")
        away = domain.event(session, "2024-12-05", "2024-12-06", site="elsewhere", title="away")
        gone = domain.event(session, "2024-12-03", "2024-12-04", title="gone")
        events.delete_event(session, gone, EDITOR)
        assert [e.title for e in events.list_events(session)] == ["early", "away", "late"]
        assert [e.id for e in events.list_events(session, "hmeimim")] == [early.id, late.id]
        assert [e.id for e in events.list_events(session, "elsewhere")] == [away.id]


def test_members_are_annotations_of_the_events_site(domain: World) -> None:
    with domain.database.write() as session:
        event = domain.event(session)
        first = domain.annotation(session, image=domain.dec_10)
        second = domain.annotation(session, "draft", offset_m=40)
        away = domain.annotation(session, image=domain.elsewhere)
        added = events.add_annotations(session, event, [first.id, second.id], ANALYST)
        assert added == [first.id, second.id]
        with pytest.raises(InvalidInput) as other_site:
            events.add_annotations(session, event, [away.id], ANALYST)
        assert other_site.value.message == (
            f"annotation {away.id} lies outside the site's area; an event groups "
            "annotations of its own site"
        )
        with pytest.raises(AlreadyExists) as twice:
            events.add_annotations(session, event, [first.id], ANALYST)
        assert twice.value.message == f"annotation {first.id} is in the event already"
        with pytest.raises(NotFound):
            events.add_annotations(session, event, ["0" * 32], ANALYST)
        with pytest.raises(Forbidden):
            events.add_annotations(session, event, [first.id], VIEWER)
        assert [a.id for a in events.members(session, event)] == [first.id, second.id]
        events.remove_annotation(session, event, first.id, ANALYST)
    with domain.database.write() as session:  # a later request
        event = events.get_event(session, event.id)
        with pytest.raises(NotFound) as absent:
            events.remove_annotation(session, event, first.id, ANALYST)
        assert absent.value.message == f"annotation {first.id!r} is not in event {event.id}"
    with domain.database.write() as session:
        event = events.get_event(session, event.id)
        store.delete(session, store.get(session, second.id), ANALYST, second.version)
        assert events.members(session, event) == [], "a deleted annotation is no member"
        assert changes(session, "event", event.id) == [
            ("create", "anna"),
            ("add", "anna"),
            ("add", "anna"),
            ("remove", "anna"),
        ]
        history = changes_of(session, "event", [event.id])
        assert json.loads(history[1].after_json or "") == {"annotation_id": first.id}
        assert json.loads(history[3].before_json or "") == {"annotation_id": first.id}


def test_an_event_with_members_stays_on_its_site(domain: World) -> None:
    with domain.database.write() as session:
        event = domain.event(session)
        member = domain.annotation(session)
        events.add_annotations(session, event, [member.id], ANALYST)
        moved = events.parse_event(
            {"site": "elsewhere", "title": "t", "start": "2024-12-10", "end": "2024-12-11"}
        )
        with pytest.raises(InvalidInput) as refused:
            events.update_event(session, event, moved, ANALYST)
        assert refused.value.message.startswith("the event groups annotations of its site;")
        assert (event.version, events.site_slug(session, event)) == (1, "hmeimim")
        same_site = events.parse_event(
            {"site": "hmeimim", "title": "Renamed", "start": "2024-12-10", "end": "2024-12-11"}
        )
        assert events.update_event(session, event, same_site, ANALYST).version == 2


def test_the_summary_counts_objects_per_day_and_label(domain: World) -> None:
    with domain.database.write() as session:
        event = domain.event(session)
        ids = [
            domain.annotation(session, image=domain.dec_10).id,
            domain.annotation(session, image=domain.dec_13).id,
            domain.annotation(session, image=domain.dec_13, offset_m=40).id,
            domain.annotation(session, image=domain.dec_13, label=TRUCK, count=40).id,
            domain.annotation(session, "draft", image=domain.undated, label=IL_76).id,
        ]
        events.add_annotations(session, event, ids, ANALYST)
        summary = events.summary(session, event)
        assert summary["annotations"] == 5
        assert summary["counts"] == {
            "2024-12-10": {"aircraft.transport.an-124": 1},
            "2024-12-13": {"aircraft.transport.an-124": 2, "vehicle.truck": 40},
            "unknown": {"aircraft.transport.il-76": 1},
        }
        assert (summary["first_seen"], summary["last_seen"]) == (
            "2024-12-10T08:21:00Z",
            "2024-12-13T08:21:00Z",
        )
        # the captures in the window: those of the site with a date inside it
        assert [c["image_id"] for c in summary["captures"]] == [domain.dec_10, domain.dec_13]
        assert summary["captures"][0] == {
            "image_id": domain.dec_10,
            "captured_at": "2024-12-10T08:21:00Z",
            "provider": "Test Provider",
            "synthetic": False,
        }


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        ("2024-12-10", "2024-12-13", ["dec_10", "dec_13"]),  # a date ends at its last moment
        ("2024-12-11", "2024-12-13", ["dec_13"]),
        ("2024-12-10", "2024-12-12", ["dec_10"]),
        ("2024-12-10T08:21:00Z", "2024-12-13T08:21:00Z", ["dec_10", "dec_13"]),  # both inclusive
        ("2024-12-10T08:22:00Z", "2024-12-13T08:20:00Z", []),
        ("2024-12-10T10:21:00+02:00", "2024-12-13T10:00:00+01:00", ["dec_10", "dec_13"]),
        ("2024-12-14", "2024-12-20", []),
    ],
)
def test_the_window_holds_the_captures_taken_within_it(
    domain: World, start: str, end: str, inside: list[str]
) -> None:
    with domain.database.write() as session:
        event = domain.event(session, start, end)
        captured = [c["image_id"] for c in events.summary(session, event)["captures"]]
        assert captured == [getattr(domain, name) for name in inside]
        empty = events.summary(session, event)
        assert (empty["annotations"], empty["counts"], empty["first_seen"]) == (0, {}, None)
