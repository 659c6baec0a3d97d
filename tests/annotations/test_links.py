"""Links in the domain, on SQLite and PostGIS: their kinds, duplicates, missing or hidden
ends, who may unlink, and what each role sees from the report's and the annotation's side."""

from __future__ import annotations

import json
from typing import Any

import pytest

from annotations import annotation as store
from annotations.annotation import Forbidden
from annotations.catalogue.users import Role
from annotations.errors import AlreadyExists, InvalidInput, NotFound
from annotations.history import changes_of
from annotations.newsroom import events, links, publishing
from annotations.newsroom.naming import quoted
from tests.domain import ANALYST, EDITOR, OTHER_ANALYST, VIEWER, World, changes


def test_each_kind_of_link_and_its_history(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        annotation = domain.annotation(session)
        event = domain.event(session)
        to_report = domain.link(
            session, annotation_id=annotation.id, report_id=report.id, stance="context"
        )
        to_claim = domain.link(
            session, annotation_id=annotation.id, claim_id=claim.id, note="both noses"
        )
        from_event = domain.link(session, event_id=event.id, report_id=report.id)
        contradicting = domain.link(
            session, event_id=event.id, claim_id=claim.id, stance="contradicts"
        )
        assert to_claim.report_id == report.id, "a claim's link is also its report's"
        found = [
            (x.annotation_id, x.event_id, x.report_id, x.claim_id, x.stance, x.note)
            for x in (to_report, to_claim, from_event, contradicting)
        ]
        assert found == [
            (annotation.id, None, report.id, None, "context", ""),
            (annotation.id, None, report.id, claim.id, "supports", "both noses"),
            (None, event.id, report.id, None, "supports", ""),
            (None, event.id, report.id, claim.id, "contradicts", ""),
        ]
        assert changes(session, "link", to_claim.id) == [("link", "anna")]
        [change] = changes_of(session, "link", [to_claim.id])
        assert json.loads(change.after_json or "")["note"] == "both noses"
        shown = links.find_links(session, report_id=report.id, role=Role.viewer)
        assert shown == [], "the report is a draft"
        shown = links.find_links(session, report_id=report.id, role=Role.analyst)
        assert [x.id for x in shown] == [to_report.id, to_claim.id, from_event.id, contradicting.id]
        by_claim = links.find_links(session, claim_id=claim.id, role=Role.analyst)
        assert [x.id for x in by_claim] == [to_claim.id, contradicting.id]
        by_event = links.find_links(session, event_id=event.id, role=Role.analyst)
        assert [x.id for x in by_event] == [from_event.id, contradicting.id]


def test_a_duplicate_is_refused_until_the_first_is_removed(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        annotation = domain.annotation(session)
        first = domain.link(session, annotation_id=annotation.id, report_id=report.id)
        with pytest.raises(AlreadyExists) as twice:
            domain.link(
                session, annotation_id=annotation.id, report_id=report.id, stance="contradicts"
            )
        assert twice.value.message == (
            "The Antonov An-124 Ruslan on the 2024-12-13 Hmeimim capture is linked to the report "
            f"{quoted(report.title)} already; unlink it to change its stance or note"
        )
        assert twice.value.details == {"link": first.id}
        # the same annotation to a claim of that report is another link
        domain.link(session, annotation_id=annotation.id, claim_id=claim.id)
        with pytest.raises(AlreadyExists):
            domain.link(session, annotation_id=annotation.id, claim_id=claim.id, note="again")
        links.remove_link(session, first, ANALYST)
        again = domain.link(
            session, annotation_id=annotation.id, report_id=report.id, stance="contradicts"
        )
        assert again.id != first.id and again.stance == "contradicts"
        active = links.find_links(session, annotation_id=annotation.id, role=Role.editor)
        assert len(active) == 2


def test_a_link_to_what_is_missing_is_not_found(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        other = domain.report(session, title="Another")
        claim = domain.claim(session, other)
        annotation = domain.annotation(session)
        gone = domain.annotation(session, "draft", offset_m=40)
        store.delete(session, gone, ANALYST, gone.version)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"annotation_id": "0" * 32, "report_id": report.id}, "no annotation '" + "0" * 32),
            ({"annotation_id": gone.id, "report_id": report.id}, f"no annotation {gone.id!r}"),
            ({"annotation_id": annotation.id, "report_id": 9999}, "no report 9999"),
            ({"annotation_id": annotation.id, "claim_id": 9999}, "no claim 9999"),
            ({"event_id": 9999, "report_id": report.id}, "no event 9999"),
        ]
        for fields, message in cases:
            with pytest.raises(NotFound) as missing:
                domain.link(session, **fields)
            assert missing.value.message.startswith(message), fields
        with pytest.raises(InvalidInput) as mismatch:
            domain.link(
                session, annotation_id=annotation.id, report_id=report.id, claim_id=claim.id
            )
        assert mismatch.value.message == (
            f"the claim {quoted(claim.exact)} belongs to the report \u201cAnother\u201d, not to "
            f"the report {quoted(report.title)}"
        )
        assert links.find_links(session, annotation_id=annotation.id, role=Role.admin) == []


def test_viewers_may_not_link_and_analysts_unlink_only_their_own(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        annotation = domain.annotation(session)
        with pytest.raises(Forbidden) as viewer:
            domain.link(session, VIEWER, annotation_id=annotation.id, report_id=report.id)
        assert viewer.value.message == "linking evidence needs the analyst role"
        link = domain.link(session, annotation_id=annotation.id, report_id=report.id)
        with pytest.raises(Forbidden) as other:
            links.remove_link(session, link, OTHER_ANALYST)
        assert other.value.message == "analysts remove only their own links; this is anna's"
        assert link.removed_at is None
        links.remove_link(session, link, EDITOR, "not the same aircraft")
        assert link.removed_by == "eddie"
        with pytest.raises(NotFound):
            links.get_link(session, link.id, Role.admin)
        assert links.find_links(session, report_id=report.id, role=Role.admin) == []
        assert changes(session, "link", link.id) == [("link", "anna"), ("unlink", "eddie")]
        unlink = changes_of(session, "link", [link.id])[-1]
        assert unlink.comment == "not the same aircraft" and unlink.after_json is None
        assert json.loads(unlink.before_json or "")["annotation_id"] == annotation.id


def test_a_draft_reports_links_are_hidden_from_viewers(domain: World) -> None:
    """From every side: the link itself, the searches, the annotation's history, the report
    ids an annotation carries, and the annotations a report rests on."""
    with domain.database.write() as session:
        draft = domain.report(session, title="Draft")
        published = domain.report(session, title="Published")
        annotation = domain.annotation(session)
        hidden = domain.link(session, annotation_id=annotation.id, report_id=draft.id)
        shown = domain.link(session, annotation_id=annotation.id, report_id=published.id)
        publishing.publish(session, published, EDITOR, domain.images_dir, domain.labels)
    with domain.database.read() as session:
        with pytest.raises(NotFound) as caught:
            links.get_link(session, hidden.id, Role.viewer)
        assert caught.value.message == f"no link {hidden.id!r}"
        assert links.get_link(session, hidden.id, Role.analyst).id == hidden.id
        assert links.get_link(session, shown.id, Role.viewer).id == shown.id
        assert [
            x.id for x in links.find_links(session, annotation_id=annotation.id, role=Role.viewer)
        ] == [shown.id]
        assert links.find_links(session, report_id=draft.id, role=Role.viewer) == []
        seen = links.link_changes(session, annotation.id, Role.viewer)
        assert [c.subject_id for c in seen] == [shown.id]
        seen = links.link_changes(session, annotation.id, Role.analyst)
        assert [c.subject_id for c in seen] == [hidden.id, shown.id]
        assert links.reports_by_annotation(session, [annotation.id], Role.viewer) == {
            annotation.id: [published.id]
        }
        assert links.reports_by_annotation(session, None, Role.analyst) == {
            annotation.id: sorted([draft.id, published.id])
        }
        viewer_ids = list(session.scalars(links.linked_annotation_ids(draft.id, role=Role.viewer)))
        assert viewer_ids == []
        editor_ids = list(session.scalars(links.linked_annotation_ids(draft.id, role=Role.editor)))
        assert editor_ids == [annotation.id]


def test_what_a_report_rests_on(domain: World) -> None:
    """Directly, through a claim or through a linked event; not through a removed link or a
    deleted event; deleted annotations are still listed, for publishing to refuse."""
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        direct = domain.annotation(session, offset_m=0)
        by_claim = domain.annotation(session, offset_m=40)
        member = domain.annotation(session, offset_m=80)
        unlinked = domain.annotation(session, offset_m=-40)
        in_deleted_event = domain.annotation(session, offset_m=-80)
        deleted = domain.annotation(session, "draft", offset_m=60)
        event = domain.event(session)
        doomed = domain.event(session, title="Deleted")
        events.add_annotations(session, event, [member.id], ANALYST)
        events.add_annotations(session, doomed, [in_deleted_event.id], ANALYST)
        domain.link(session, annotation_id=direct.id, report_id=report.id)
        domain.link(session, annotation_id=by_claim.id, claim_id=claim.id)
        domain.link(session, event_id=event.id, report_id=report.id)
        domain.link(session, event_id=doomed.id, report_id=report.id)
        domain.link(session, annotation_id=deleted.id, report_id=report.id)
        links.remove_link(
            session, domain.link(session, annotation_id=unlinked.id, report_id=report.id), ANALYST
        )
        events.delete_event(session, doomed, EDITOR)
        store.delete(session, deleted, ANALYST, deleted.version)
        expected = {direct.id, by_claim.id, member.id, deleted.id}
        assert {a.id for a in links.linked_annotations(session, report.id)} == expected
        carried = links.reports_by_annotation(session, None, Role.editor)
        assert carried == {key: [report.id] for key in expected}
        members = list(
            session.scalars(links.linked_annotation_ids(event_id=event.id, role=Role.viewer))
        )
        assert members == [member.id]
