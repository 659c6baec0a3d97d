"""The demo reports' evidence: the approved An-124s of the demo's captures, each linked to a
claim (supports when its nose is open, context when it is parked), with a note in the
report's language. The English seed report and its Arabic translation link the same ones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.annotation import Actor, Annotation
from annotations.newsroom import links


def link_an_124s(
    session: Session,
    image_ids: Sequence[str],
    report_id: int,
    claim_id: int,
    notes: tuple[str, str],
    analyst: Actor,
) -> list[Annotation]:
    """Link the approved An-124s on `image_ids` to the claim, in the order they were seen;
    `notes` is (nose open, nose closed). Returns the annotations linked."""
    an_124s = list(
        session.scalars(
            select(Annotation)
            .where(
                Annotation.image_id.in_(list(image_ids)),
                Annotation.label == "aircraft.transport.an-124",
                Annotation.status == "approved",
                Annotation.deleted_at.is_(None),
            )
            .order_by(Annotation.observed_at, Annotation.id)
        )
    )
    open_note, closed_note = notes
    for annotation in an_124s:
        nose_open = "nose door open" in annotation.attributes_json
        links.create_link(
            session,
            links.LinkInput(
                annotation_id=annotation.id,
                event_id=None,
                report_id=report_id,
                claim_id=claim_id,
                stance="supports" if nose_open else "context",
                note=open_note if nose_open else closed_note,
            ),
            analyst,
        )
    return an_124s
