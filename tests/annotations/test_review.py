"""Review in the domain, on SQLite and PostGIS: editors approve or reject annotations in
review, a batch is all or nothing, and each item gets its own revision."""

from __future__ import annotations

import pytest

from annotations import annotation as store
from annotations.annotation import Forbidden, VersionConflict
from annotations.errors import InvalidInput, NotFound
from annotations.history import revisions_of
from annotations.review import MAX_BATCH, Item, review
from tests.domain import ANALYST, EDITOR, World


def test_a_batch_is_approved_each_with_its_revision(domain: World) -> None:
    with domain.database.write() as session:
        first = domain.annotation(session, "in_review")
        second = domain.annotation(session, "in_review", offset_m=40)
        items = [Item(second.id, second.version), Item(first.id)]
        done = review(session, items, "approve", EDITOR, "both seen on the 13th")
        assert [a.id for a in done] == [second.id, first.id], "in the order asked"
        for annotation in (first, second):
            assert (annotation.status, annotation.version) == ("approved", 3)
            assert annotation.updated_by == "eddie"
            last = revisions_of(session, annotation.id)[-1]
            assert (last.action, last.version, last.actor) == ("status", 3, "eddie")
            assert last.comment == "both seen on the 13th"


def test_rejecting_needs_a_reason(domain: World) -> None:
    with domain.database.write() as session:
        annotation = domain.annotation(session, "in_review")
        for comment in (None, "", "   "):
            with pytest.raises(InvalidInput) as silent:
                review(session, [Item(annotation.id)], "reject", EDITOR, comment)
            assert silent.value.message == "say why: rejecting needs a comment"
        review(session, [Item(annotation.id)], "reject", EDITOR, "a shadow, not an aircraft")
        assert annotation.status == "rejected"
        assert revisions_of(session, annotation.id)[-1].comment == "a shadow, not an aircraft"


def test_the_batch_itself_is_checked(domain: World) -> None:
    with domain.database.write() as session:
        annotation = domain.annotation(session, "in_review")
        cases = [
            (
                [Item(annotation.id)],
                "publish",
                EDITOR,
                "action must be one of approve, reject, not 'publish'",
            ),
            ([], "approve", EDITOR, "name at least one annotation to review"),
            (
                [Item(annotation.id), Item(annotation.id, 2)],
                "approve",
                EDITOR,
                f"annotation {annotation.id} is named twice",
            ),
            (
                [Item(f"{n:032x}") for n in range(MAX_BATCH + 1)],
                "approve",
                EDITOR,
                "review at most 1000 annotations at once",
            ),
        ]
        for items, decision, actor, message in cases:
            with pytest.raises(InvalidInput) as refused:
                review(session, items, decision, actor)
            assert refused.value.message == message
        with pytest.raises(Forbidden) as analyst:
            review(session, [Item(annotation.id)], "approve", ANALYST)
        assert analyst.value.message == "reviewing needs the editor role; anna is analyst"
        assert (annotation.status, annotation.version) == ("in_review", 2)


@pytest.mark.parametrize("status", ["draft", "approved", "rejected"])
def test_only_an_annotation_in_review_can_be_decided(domain: World, status: str) -> None:
    with domain.database.write() as session:
        annotation = domain.annotation(session, status)
        version = annotation.version
        with pytest.raises(InvalidInput) as refused:
            review(session, [Item(annotation.id)], "approve", EDITOR)
        assert refused.value.message == (
            f"item 0 (annotation {annotation.id}): it is {status}, not in review; reload the "
            "queue; nothing in this batch was changed"
        )
        assert (annotation.status, annotation.version) == (status, version)


def test_one_item_that_cannot_move_stops_the_whole_batch(domain: World) -> None:
    """Rows are taken in id order; the error names the item by its place in the request,
    and the transaction leaves the items decided before it untouched."""
    with domain.database.write() as session:
        one = domain.annotation(session, "in_review")
        two = domain.annotation(session, "in_review", offset_m=40)
        early, late = sorted([one, two], key=lambda a: a.id)
        early_id, late_id = early.id, late.id
    items = [Item(late_id, 1), Item(early_id, 2)]  # late is at version 2: a stale edit
    with pytest.raises(VersionConflict) as stale, domain.database.write() as session:
        review(session, items, "approve", EDITOR)
    assert stale.value.message == (
        f"item 0 (annotation {late_id}): annotation {late_id} is at version 2, you edited "
        "version 1; merge with the current version and try again; nothing in this batch was "
        "changed"
    )
    assert stale.value.details["current"]["id"] == late_id
    with domain.database.read() as session:
        for annotation_id in (early_id, late_id):
            annotation = store.get(session, annotation_id)
            assert (annotation.status, annotation.version) == ("in_review", 2)
            assert [r.action for r in revisions_of(session, annotation_id)] == ["create", "status"]


def test_a_deleted_annotation_is_not_found(domain: World) -> None:
    with domain.database.write() as session:
        annotation = domain.annotation(session, "draft")
        store.delete(session, annotation, ANALYST, annotation.version)
        with pytest.raises(NotFound) as gone:
            review(session, [Item(annotation.id)], "approve", EDITOR)
        assert gone.value.message == (
            f"item 0 (annotation {annotation.id}): no annotation {annotation.id!r}; nothing in "
            "this batch was changed"
        )


@pytest.mark.parametrize(
    ("now", "target", "message"),
    [
        ("draft", "approved",
         "this annotation is a draft: it can move to in review, not to approved"),
        ("approved", "draft",
         "this annotation is approved: it can move to in review, not to draft"),
        ("in_review", "in_review",
         "this annotation is in review: it can move to approved or rejected or draft, "
         "not to in review"),
    ],
)  # fmt: skip
def test_a_refused_move_says_the_statuses_in_words(
    domain: World, now: str, target: str, message: str
) -> None:
    with domain.database.write() as session:
        annotation = domain.annotation(session, now)
        with pytest.raises(InvalidInput) as refused:
            store.set_status(session, annotation, target, EDITOR, annotation.version)
        assert refused.value.message == message
