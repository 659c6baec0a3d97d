"""Reports and claims in the domain, on SQLite and PostGIS: roles, who sees what, the rules
of a claim's quote, and a history row for every change."""

from __future__ import annotations

import json

import pytest

from annotations.annotation import Forbidden
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput, NotFound
from annotations.history import changes_of
from annotations.newsroom import publishing, reports
from tests.domain import (
    ANALYST,
    CLAIM,
    EDITOR,
    TEXT,
    VIEWER,
    World,
    changes,
    report_fields,
)


def test_a_report_is_made_edited_and_deleted_with_its_history(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        assert (report.status, report.version, report.created_by) == ("draft", 1, "eddie")
        assert report.authors == ["A. Reporter"]
        assert report.published_at is not None and report.published_at.isoformat() == (
            "2026-05-25T00:00:00+00:00"
        )
        edited = reports.parse_report(report_fields(summary="Two An-124s, noses open"))
        reports.update_report(session, report, edited, EDITOR)
        report_id = report.id
    with domain.database.write() as session:
        report = reports.get_report(session, report_id, Role.editor)
        assert (report.version, report.summary) == (2, "Two An-124s, noses open")
        reports.delete_report(session, report, EDITOR)
    with domain.database.read() as session:
        assert changes(session, "report", report_id) == [
            ("create", "eddie"),
            ("edit", "eddie"),
            ("delete", "eddie"),
        ]
        create, edit, delete = changes_of(session, "report", [report_id])
        assert create.before_json is None
        assert json.loads(create.after_json or "")["status"] == "draft"
        assert json.loads(edit.before_json or "")["summary"] is None
        assert json.loads(edit.after_json or "")["summary"] == "Two An-124s, noses open"
        assert json.loads(edit.after_json or "")["version"] == 2
        assert json.loads(delete.before_json or "")["version"] == 2
        assert delete.after_json is None


@pytest.mark.parametrize("actor", [ANALYST, VIEWER])
def test_only_editors_change_reports_and_claims(domain: World, actor: reports.Actor) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        whole = reports.parse_report(report_fields())
        role = actor.role.name
        cases = [
            (lambda: reports.create_report(session, whole, actor), "adding a report"),
            (lambda: reports.update_report(session, report, whole, actor), "editing a report"),
            (lambda: reports.delete_report(session, report, actor), "deleting a report"),
            (lambda: reports.create_claim(session, report, CLAIM, "", "", actor), "adding a claim"),
            (lambda: reports.delete_claim(session, claim, actor), "removing a claim"),
        ]
        for call, what in cases:
            with pytest.raises(Forbidden) as refused:
                call()
            assert refused.value.message == f"{what} needs the editor role; {actor.name} is {role}"
        assert report.version == 1 and report.deleted_at is None and claim.deleted_at is None
        assert changes(session, "report", report.id) == [("create", "eddie")]


def test_a_viewer_sees_published_reports_only(domain: World) -> None:
    with domain.database.write() as session:
        draft = domain.report(session, title="Draft")
        published = domain.report(session, title="Published")
        annotation = domain.annotation(session, "approved")
        domain.link(session, annotation_id=annotation.id, report_id=published.id)
        publishing.publish(session, published, EDITOR, domain.images_dir, domain.labels)
        draft_id, published_id = draft.id, published.id
    with domain.database.read() as session:
        with pytest.raises(NotFound) as hidden:
            reports.get_report(session, draft_id, Role.viewer)
        assert hidden.value.message == f"no report {draft_id!r}"
        with pytest.raises(NotFound):
            reports.get_report(session, str(draft_id), Role.viewer)
        assert reports.get_report(session, published_id, Role.viewer).title == "Published"
        assert reports.get_report(session, draft_id, Role.analyst).title == "Draft"
        assert [r.id for r in reports.list_reports(session, Role.viewer)] == [published_id]
        listed = [r.id for r in reports.list_reports(session, Role.analyst)]
        assert listed == [published_id, draft_id]  # newest first


def test_a_deleted_report_is_seen_by_no_one(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        reports.delete_report(session, report, EDITOR)
        report_id, claim_id = report.id, claim.id
    with domain.database.read() as session:
        for role in Role:
            with pytest.raises(NotFound):
                reports.get_report(session, report_id, role)
            with pytest.raises(NotFound) as hidden:
                reports.find_claim(session, claim_id, role)
            assert hidden.value.message == f"no claim {claim_id!r}"
            assert reports.list_reports(session, role) == []


def test_a_draft_reports_claims_are_hidden_from_viewers(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        report_id, claim_id = report.id, claim.id
    with domain.database.read() as session:
        with pytest.raises(NotFound) as hidden:
            reports.find_claim(session, claim_id, Role.viewer)
        assert hidden.value.message == f"no claim {claim_id!r}"
        found, owner = reports.find_claim(session, str(claim_id), Role.analyst)
        assert (found.id, owner.id) == (claim_id, report_id)


def test_a_claim_quotes_the_text_and_keeps_its_context(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        claim = domain.claim(session, report)
        assert claim.start == TEXT.index(CLAIM) == 26
        # no context sent: up to 32 characters either side are kept
        assert claim.prefix == "Satellite images captured "
        assert claim.suffix == ", with the noses of the two airc"
        exact = claim.to_dict()["selector"]
        assert exact == {
            "type": "TextQuoteSelector",
            "exact": CLAIM,
            "prefix": "Satellite images captured ",
            "suffix": ", with the noses of the two airc",
        }
        # a given prefix picks the second "the two": the one after "noses of"
        second = reports.create_claim(session, report, "the two", "noses of ", "", EDITOR)
        assert second.start == 95
        assert (second.prefix, second.suffix) == ("noses of ", "")
        listed = reports.claims_of(session, [report.id])
        assert [c.id for c in listed] == [claim.id, second.id]  # by place in the text
        assert changes(session, "claim", claim.id) == [("create", "eddie")]


def test_a_quote_that_is_not_in_the_text_is_refused(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        empty = domain.report(session, text=None)
        with pytest.raises(InvalidInput) as missing:
            reports.create_claim(session, report, "three AN-124 aircraft", "", "", EDITOR)
        assert missing.value.message.startswith("the quote cannot be found in the report's text;")
        assert missing.value.details == {
            "exact": "three AN-124 aircraft",
            "prefix": "",
            "suffix": "",
        }
        with pytest.raises(InvalidInput) as no_text:
            reports.create_claim(session, empty, CLAIM, "", "", EDITOR)
        assert no_text.value.message.startswith("the quote cannot be found in the report has no")
        with pytest.raises(InvalidInput):  # the context must match too
            reports.create_claim(session, report, CLAIM, "Aerial images captured ", "", EDITOR)
        assert reports.claims_of(session, [report.id, empty.id]) == []


def test_new_text_must_keep_every_claims_quote(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        kept = domain.claim(session, report)
        convoy = domain.claim(session, report, "a Russian convoy")
        shorter = TEXT.split(" Separately")[0] + "."
        with pytest.raises(InvalidInput) as refused:
            reports.update_report(
                session, report, reports.parse_report(report_fields(text=shorter)), EDITOR
            )
        assert refused.value.details == {"claims": [{"id": convoy.id, "exact": "a Russian convoy"}]}
        assert report.version == 1 and report.text == TEXT
        # the same sentences further on: the claims move with them
        longer = "Update, 26 May. " + TEXT
        reports.update_report(
            session, report, reports.parse_report(report_fields(text=longer)), EDITOR
        )
        assert (kept.start, convoy.start) == (26 + 16, 157 + 16)
        assert report.version == 2


def test_a_removed_claim_is_gone_but_kept_in_the_history(domain: World) -> None:
    with domain.database.write() as session:
        report = domain.report(session)
        other = domain.report(session, title="Another")
        claim = domain.claim(session, report)
        with pytest.raises(NotFound) as elsewhere:
            reports.get_claim(session, other, claim.id)
        assert elsewhere.value.message == f"report {other.id} has no claim {claim.id!r}"
        reports.delete_claim(session, claim, EDITOR)
        with pytest.raises(NotFound):
            reports.get_claim(session, report, claim.id)
        assert reports.claims_of(session, [report.id]) == []
        assert changes(session, "claim", claim.id) == [("create", "eddie"), ("delete", "eddie")]
        # the report's text may now lose the quote
        changed = reports.parse_report(report_fields(text="Nothing left of it."))
        assert reports.update_report(session, report, changed, EDITOR).version == 2


@pytest.mark.parametrize("value", [True, 0, -1, 2**31, "0x1", "1.0", "", "1" * 13, None, 1.0])
def test_an_id_that_cannot_be_one_names_nothing(value: object) -> None:
    with pytest.raises(NotFound) as caught:
        reports.parse_id(value, "report")
    assert caught.value.message == f"no report {value!r}"


def test_ids_as_numbers_or_digits() -> None:
    assert reports.parse_id(7, "report") == 7
    assert reports.parse_id("0042", "claim") == 42
    assert reports.parse_id(2**31 - 1, "link") == 2**31 - 1


def test_locate_finds_the_quote_with_its_context() -> None:
    assert reports.locate(TEXT, CLAIM) == 26
    assert reports.locate(TEXT, "the two", "noses of ", " aircraft") == 95
    assert reports.locate(TEXT, "the two", "", " aircraft open") == 95
    assert reports.locate(TEXT, "the two", "xx") == -1
    assert reports.locate(None, CLAIM) == -1
    assert reports.locate(TEXT, "") == -1
