"""News reports, their claims, events, links from evidence to claims, publications, and
the history of all of these.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _stamps(prefix: str, *, nullable: bool = False) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_by", sa.String(80), nullable=nullable),
        sa.Column(f"{prefix}_at", sa.DateTime(), nullable=nullable),
    ]


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("outlet", sa.String(500), nullable=True),
        sa.Column("authors_json", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("coarsening", sa.String(16), nullable=False),
        sa.Column("coarsen_m", sa.Integer(), nullable=True),
        sa.Column("embed_token", sa.String(64), nullable=True, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_stamps("created"),
        *_stamps("updated"),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_reports_status", "reports", ["status"])
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("exact", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("suffix", sa.Text(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        *_stamps("created"),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_claims_report_id", "claims", ["report_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_stamps("created"),
        *_stamps("updated"),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_events_site_id", "events", ["site_id"])
    op.create_table(
        "event_annotations",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), primary_key=True),
        sa.Column(
            "annotation_id", sa.String(32), sa.ForeignKey("annotations.id"), primary_key=True
        ),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_event_annotations_annotation_id", "event_annotations", ["annotation_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotation_id", sa.String(32), sa.ForeignKey("annotations.id"), nullable=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), nullable=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("claims.id"), nullable=True),
        sa.Column("stance", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_stamps("created"),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(80), nullable=True),
    )
    for column in ("annotation_id", "event_id", "report_id", "claim_id"):
        op.create_index(f"ix_links_{column}", "links", [column])
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(80), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("report_id", "number"),
    )
    op.create_index("ix_publications_report_id", "publications", ["report_id"])
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
    )
    op.create_index("ix_changes_subject", "changes", ["subject", "subject_id"])


def downgrade() -> None:
    for table in (
        "changes",
        "publications",
        "links",
        "event_annotations",
        "events",
        "claims",
        "reports",
    ):
        op.drop_table(table)
