"""Review: an editor approves or rejects annotations in review, one or many at once.

A batch is all-or-nothing: the caller runs it in one transaction, and the first item that
cannot move stops the batch with an error naming that item, so nothing is half-written.
Each item still gets its own revision, with the editor's comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from annotations.annotation import Actor, Annotation, Forbidden, get, set_status, status_words
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError, InvalidInput

#: what an editor does -> the status it leads to
DECISIONS = {"approve": "approved", "reject": "rejected"}
MAX_BATCH = 1000


@dataclass(frozen=True)
class Item:
    """One annotation to review, and the version the editor saw (None: as it stands)."""

    annotation_id: str
    version: int | None = None


def review(
    session: Session, items: Sequence[Item], decision: str, actor: Actor, comment: str | None = None
) -> list[Annotation]:
    """Approve or reject every item, or raise on the first that cannot be.

    Rule for versions: an item with a version is refused (VersionConflict) when the
    annotation changed since; an item without one is taken as it stands, which is safe
    because only an annotation in review can be approved or rejected."""
    if decision not in DECISIONS:
        raise InvalidInput(f"action must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if actor.role < Role.editor:
        raise Forbidden(f"reviewing needs the editor role; {actor.name} is {actor.role.name}")
    if decision == "reject" and not (comment and comment.strip()):
        raise InvalidInput("say why: rejecting needs a comment")
    if not items:
        raise InvalidInput("name at least one annotation to review")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"review at most {MAX_BATCH} annotations at once")
    seen: set[str] = set()
    for item in items:
        if item.annotation_id in seen:
            raise InvalidInput(f"annotation {item.annotation_id} is named twice")
        seen.add(item.annotation_id)
    status = DECISIONS[decision]
    done: dict[int, Annotation] = {}
    # rows are locked in id order, so two batches naming the same annotations in a different
    # order queue behind each other instead of deadlocking (PostgreSQL)
    for index in sorted(range(len(items)), key=lambda i: items[i].annotation_id):
        item = items[index]
        try:
            annotation = get(session, item.annotation_id, for_update=True)
            if annotation.status != "in_review":
                raise InvalidInput(
                    f"it is {status_words(annotation.status)}, not in review; reload the queue"
                )
            expected = annotation.version if item.version is None else item.version
            done[index] = set_status(session, annotation, status, actor, expected, comment)
        except AnnotationError as exc:
            # the same kind of error, saying which item of the batch it is about
            raise type(exc)(
                f"item {index} (annotation {item.annotation_id}): {exc.message}; "
                "nothing in this batch was changed",
                exc.details,
            ) from exc
    return [done[index] for index in range(len(items))]
