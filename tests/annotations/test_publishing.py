"""Publishing in the domain, on SQLite and PostGIS: only approved evidence, a numbered frozen
publication per call, what the evidence holds, coarsening, and the history it leaves."""

from __future__ import annotations

import hashlib
import json

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy.orm import Session

from annotations import annotation as store
from annotations.annotation import Forbidden
from annotations.catalogue.sites import get_site
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput, NotFound
from annotations.newsroom import events, links, publishing, reports
from tests.domain import ANALYST, EDITOR, IL_76, World, report_fields

#: the grid of coarsening lies in the UTM zone of the geometry: 37N at lon 36.19
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)


def publish(domain: World, session: Session, report: reports.Report) -> publishing.Publication:
    return publishing.publish(session, report, EDITOR, domain.images_dir, domain.labels)


def test_only_editors_publish_and_only_what_is_linked(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        with pytest.raises(Forbidden) as analyst:
            publishing.publish(session, report, ANALYST, domain.images_dir, domain.labels)
        assert analyst.value.message == "publishing needs the editor role; anna is analyst"
        with pytest.raises(InvalidInput) as empty:
            publish(domain, session, report)
        assert empty.value.message == (
            "nothing to publish: link approved annotations or an event first"
        )
        assert report.status == "draft" and publishing.publications_of(session, report) == []
        with pytest.raises(NotFound) as none:
            publishing.get_publication(session, report)
        assert none.value.message == (
            f"report {report.id} has no publication yet; an editor publishes it first"
        )


def test_unapproved_evidence_is_refused_with_the_list_of_items(domain: World) -> None:
    """Linked directly, through a claim or through an event, every annotation that is not
    approved, or was deleted, is listed; unlinked ones and a deleted event's are not."""
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        approved = domain.annotation(session, "approved")
        draft = domain.annotation(session, "draft", offset_m=20)
        in_review = domain.annotation(session, "in_review", offset_m=40)
        rejected = domain.annotation(session, "rejected", label=IL_76, offset_m=60)
        deleted = domain.annotation(session, "draft", offset_m=80)
        unlinked = domain.annotation(session, "draft", offset_m=-20)
        in_deleted_event = domain.annotation(session, "draft", offset_m=-40)
        event = domain.event(session)
        doomed = domain.event(session, title="Deleted")
        events.add_annotations(session, event, [rejected.id], ANALYST)
        events.add_annotations(session, doomed, [in_deleted_event.id], ANALYST)
        domain.link(session, annotation_id=approved.id, report_id=report.id)
        domain.link(session, annotation_id=draft.id, report_id=report.id)
        domain.link(session, annotation_id=in_review.id, claim_id=claim.id)
        domain.link(session, annotation_id=deleted.id, report_id=report.id)
        domain.link(session, event_id=event.id, report_id=report.id)
        domain.link(session, event_id=doomed.id, claim_id=claim.id)
        removed = domain.link(session, annotation_id=unlinked.id, report_id=report.id)
        links.remove_link(session, removed, ANALYST)
        events.delete_event(session, doomed, EDITOR)
        store.delete(session, deleted, ANALYST, deleted.version)
        with pytest.raises(publishing.NotPublishable) as refused:
            publish(domain, session, report)
        wrong = [draft, in_review, rejected, deleted]
        wrong.sort(key=lambda a: (a.observed_at, a.id))
        problem = {
            draft.id: "not approved (status draft)",
            in_review.id: "not approved (status in_review)",
            rejected.id: "not approved (status rejected)",
            deleted.id: "deleted",
        }
        words = {
            draft.id: "is a draft: submit and approve it",
            in_review.id: "is in review: approve it",
            rejected.id: "was rejected: fix it, then approve it",
            deleted.id: "was deleted: unlink it",
        }
        names = {
            a.id: f"the {domain.labels.get(a.label).name} on the 2024-12-13 Hmeimim capture"
            for a in wrong
        }
        assert names[draft.id] == "the Antonov An-124 Ruslan on the 2024-12-13 Hmeimim capture"
        assert refused.value.details == {
            "annotations": [
                {
                    "annotation_id": a.id,
                    "label": a.label,
                    "status": a.status,
                    "deleted": a is deleted,
                    "problem": problem[a.id],
                    "name": names[a.id],
                    "words": words[a.id],
                    "label_name": domain.labels.get(a.label).name,
                    "day": "2024-12-13",
                    "site": "Hmeimim",
                }
                for a in wrong
            ]
        }
        listed = "; ".join(f"{names[a.id]} {words[a.id]}" for a in wrong)
        assert refused.value.message == (
            f"4 linked annotations of the report \u201c{report.title}\u201d cannot be published: "
            f"{listed}. Or unlink them from the report."
        )
        assert all(a.id not in refused.value.message for a in wrong), "named, not ids"
        found = publishing.problems(session, report, domain.labels)
        assert found == refused.value.details["annotations"]
        assert report.status == "draft" and report.embed_token is None
        assert publishing.publications_of(session, report) == []


def test_a_publication_freezes_the_evidence(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        annotation = domain.annotation(session)
        domain.link(session, annotation_id=annotation.id, claim_id=claim.id, note="noses open")
        publication = publish(domain, session, report)
        assert (publication.number, publication.published_by) == (1, "eddie")
        assert publication.sha256 == hashlib.sha256(publication.evidence_json.encode()).hexdigest()
        assert report.status == "published" and len(report.embed_token or "") == 32
        evidence = publishing.frozen_evidence(publication, domain.images_dir)
        assert evidence.report.title == "The situation of the Russian forces in Syria"
        assert [(c.id, c.exact) for c in evidence.claims] == [(claim.id, claim.exact)]
        [item] = evidence.annotations
        assert (item.id, item.version, item.label_name) == (
            annotation.id,
            3,
            "Antonov An-124 Ruslan",
        )
        assert (item.approved_by, item.revised_by) == ("eddie", "eddie")
        assert [(x.stance, x.claim_id, x.note) for x in item.links] == [
            ("supports", claim.id, "noses open")
        ]
        assert item.feature["properties"]["reports"] == [report.id]
        assert [i.id for i in evidence.images] == [domain.dec_13]
        assert evidence.site_name == "Hmeimim"
        assert evidence.caption == (
            "1 annotation at Hmeimim. captured 2024-12-13. imagery: Test Provider (CC BY 4.0)."
        )
        assert publishing.evidence_json(evidence) == publication.evidence_json
        frozen = publication.evidence_json
        assert publishing.report_for_token(session, report.embed_token or "").id == report.id
    # later changes make a new publication, never change the first
    with domain.database.write() as session:
        report = reports.get_report(session, report.id, Role.editor)
        changed = store.get(session, annotation.id)
        store.set_status(session, changed, "in_review", EDITOR, changed.version, "recheck")
        store.set_status(session, changed, "approved", EDITOR, changed.version, "still there")
        second = publish(domain, session, report)
        assert second.number == 2 and second.sha256 != publication.sha256
        assert report.status == "published"
        first = publishing.get_publication(session, report, 1)
        assert first.evidence_json == frozen
        assert publishing.get_publication(session, report).number == 2
        again = publishing.frozen_evidence(second, domain.images_dir)
        assert again.annotations[0].version == 5
        assert [p.number for p in publishing.publications_of(session, report)] == [1, 2]


def test_publishing_is_in_the_reports_history(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        annotation = domain.annotation(session)
        link = domain.link(session, annotation_id=annotation.id, report_id=report.id)
        first = publish(domain, session, report)
        second = publish(domain, session, report)
        history = publishing.history_of(session, report)
        assert [(c.subject, c.subject_id, c.action, c.actor) for c in history] == [
            ("report", report.id, "create", "eddie"),
            ("claim", claim.id, "create", "eddie"),
            ("link", link.id, "link", "anna"),
            ("publication", first.id, "publish", "eddie"),
            ("report", report.id, "edit", "eddie"),  # draft -> published, once
            ("publication", second.id, "publish", "eddie"),
        ]
        status = history[4]
        assert status.comment == "published (publication 1)"
        assert json.loads(status.before_json or "")["status"] == "draft"
        assert json.loads(status.after_json or "")["status"] == "published"
        assert json.loads(history[5].after_json or "") == {
            "report_id": report.id,
            "number": 2,
            "sha256": second.sha256,
        }


def test_an_event_linked_to_the_report_publishes_its_members(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        members = [domain.annotation(session), domain.annotation(session, offset_m=40)]
        event = domain.event(session)
        events.add_annotations(session, event, [a.id for a in members], ANALYST)
        domain.link(session, event_id=event.id, report_id=report.id, stance="context", note="two")
        evidence = publishing.frozen_evidence(publish(domain, session, report), domain.images_dir)
        assert sorted(a.id for a in evidence.annotations) == sorted(a.id for a in members)
        assert {(x.stance, x.claim_id, x.note) for a in evidence.annotations for x in a.links} == {
            ("context", None, "event: An-124 airlift; two")
        }


def test_a_report_on_another_published_report_names_only_published_ones(domain: World) -> None:
    """An annotation's `reports` in the evidence: this report and other published ones,
    never another report's draft."""
    with domain.database.write() as session:
        annotation = domain.annotation(session)
        draft = domain.report(session, title="Still a draft")
        earlier = domain.report(session, title="Earlier")
        report = domain.report(session)
        for linked in (draft, earlier, report):
            domain.link(session, annotation_id=annotation.id, report_id=linked.id)
        publish(domain, session, earlier)
        evidence = publishing.frozen_evidence(publish(domain, session, report), domain.images_dir)
        assert evidence.annotations[0].feature["properties"]["reports"] == sorted(
            [earlier.id, report.id]
        )


@pytest.mark.parametrize("metres", [100, 500])
def test_coordinates_rounded_to_a_grid(domain: World, metres: int) -> None:
    with domain.database.write() as session:
        fields = report_fields(coarsening={"mode": "round", "metres": metres})
        report = reports.create_report(session, reports.parse_report(fields), EDITOR)
        annotation = domain.annotation(session)
        domain.link(session, annotation_id=annotation.id, report_id=report.id)
        evidence = publishing.frozen_evidence(publish(domain, session, report), domain.images_dir)
        assert evidence.coarsening == f"coordinates rounded to {metres} m"
        published = shape(evidence.annotations[0].feature["geometry"])
        for lon, lat in shapely.get_coordinates(published):
            x, y = TO_UTM.transform(lon, lat)
            assert x / metres == pytest.approx(round(x / metres), abs=1e-3)
            assert y / metres == pytest.approx(round(y / metres), abs=1e-3)
        # a 30 m box is smaller than the grid: one grid point stands for it
        assert published.geom_type == "Point"
        precise = annotation.geometry.centroid
        assert shapely.distance(published, precise) * 90_000 < metres


def test_geometries_replaced_by_the_sites_area(domain: World) -> None:
    with domain.database.write() as session:
        fields = report_fields(coarsening={"mode": "site"})
        report = reports.create_report(session, reports.parse_report(fields), EDITOR)
        annotation = domain.annotation(session)
        domain.link(session, annotation_id=annotation.id, report_id=report.id)
        evidence = publishing.frozen_evidence(publish(domain, session, report), domain.images_dir)
        assert evidence.coarsening == "precise geometries replaced by the site's area"
        published = shape(evidence.annotations[0].feature["geometry"])
        area = get_site(session, "hmeimim").area
        assert published.geom_type == "Polygon"
        assert shapely.hausdorff_distance(published, area) < 1e-6  # 7 decimals kept


def test_coarsen_keeps_or_refuses() -> None:
    box = shapely.box(35.95, 35.40, 35.9503, 35.4003)
    assert publishing.coarsen(box, "none", None, None) is box
    with pytest.raises(InvalidInput) as no_site:
        publishing.coarsen(box, "site", None, None)
    assert no_site.value.message.startswith("an annotation lies on no site")
    with pytest.raises(InvalidInput) as unknown:
        publishing.coarsen(box, "blur", 10, None)
    assert unknown.value.message == "unknown coarsening 'blur'"
    big = shapely.box(35.90, 35.36, 35.99, 35.44)  # about 8 km by 9 km: stays a polygon
    coarse = publishing.coarsen(big, "round", 1000, None)
    assert coarse.geom_type == "Polygon"
    assert coarse.area == pytest.approx(big.area, rel=0.25)


def test_a_token_names_a_published_report_only_while_it_exists(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        annotation = domain.annotation(session)
        domain.link(session, annotation_id=annotation.id, report_id=report.id)
        publish(domain, session, report)
        token = report.embed_token or ""
        for wrong in ("short", "x" * 65, token[:-1] + ("A" if token[-1] != "A" else "B")):
            with pytest.raises(NotFound) as missing:
                publishing.report_for_token(session, wrong)
            assert missing.value.message == "no published report here"
        reports.delete_report(session, report, EDITOR)
        with pytest.raises(NotFound):
            publishing.report_for_token(session, token)
