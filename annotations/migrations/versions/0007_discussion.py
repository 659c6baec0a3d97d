"""Discussion: comments on annotations and claims, the users each comment mentions, and
the inbox items each person has marked read.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotation_id", sa.String(32), sa.ForeignKey("annotations.id"), nullable=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("claims.id"), nullable=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(80), nullable=True),
    )
    for column in ("annotation_id", "claim_id", "report_id", "author"):
        op.create_index(f"ix_comments_{column}", "comments", [column])
    op.create_index("ix_comments_created_at", "comments", ["created_at", "id"])
    op.create_table(
        "comment_mentions",
        sa.Column(
            "comment_id",
            sa.Integer(),
            sa.ForeignKey("comments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_name", sa.String(80), primary_key=True),
    )
    op.create_index("ix_comment_mentions_user_name", "comment_mentions", ["user_name"])
    op.create_table(
        "inbox_reads",
        sa.Column("user_name", sa.String(80), primary_key=True),
        sa.Column("item", sa.String(48), primary_key=True),
        sa.Column("read_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbox_reads")
    op.drop_index("ix_comment_mentions_user_name", table_name="comment_mentions")
    op.drop_table("comment_mentions")
    for column in ("created_at", "author", "report_id", "claim_id", "annotation_id"):
        op.drop_index(f"ix_comments_{column}", table_name="comments")
    op.drop_table("comments")
