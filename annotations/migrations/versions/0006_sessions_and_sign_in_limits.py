"""Browser sessions kept on the server, sign-in rate-limit counters, and user names that
ignore letter case (a unique index on lower(name)).

The upgrade stops, naming the accounts, if two existing user names differ only in case:
it cannot tell which one the people meant, so an admin renames one first.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _refuse_names_that_differ_only_in_case() -> None:
    rows = (
        op.get_bind().execute(sa.text("SELECT id, name FROM users ORDER BY lower(name), id")).all()
    )
    groups: dict[str, list[str]] = {}
    for user_id, name in rows:
        groups.setdefault(name.lower(), []).append(f"{name} (id {user_id})")
    clashes = [" and ".join(names) for names in groups.values() if len(names) > 1]
    if clashes:
        how = "UPDATE users SET name = '<new>' WHERE id = <id>"
        raise ValueError(
            "user names now ignore letter case, but these accounts differ only in case: "
            f"{'; '.join(clashes)}. Rename all but one of each ({how}), then run "
            "`annotator init` again"
        )


def upgrade() -> None:
    _refuse_names_that_differ_only_in_case()
    op.create_index("ix_users_name_lower", "users", [sa.text("lower(name)")], unique=True)
    op.create_table(
        "browser_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_browser_sessions_user_id", "browser_sessions", ["user_id"])
    op.create_index("ix_browser_sessions_last_seen_at", "browser_sessions", ["last_seen_at"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_expires_at", table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_index("ix_browser_sessions_last_seen_at", table_name="browser_sessions")
    op.drop_index("ix_browser_sessions_user_id", table_name="browser_sessions")
    op.drop_table("browser_sessions")
    op.drop_index("ix_users_name_lower", table_name="users")
