"""The discussion tables (0007) come up on both backends, and their rows read back."""

from __future__ import annotations

from sqlalchemy import select

from annotations.db import Database, utcnow
from annotations.discussion.tables import Comment, InboxRead, Mention
from annotations.schema import differences, head, upgrade


def test_0007_makes_the_discussion_tables_on_each_backend(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert upgrade(database) == head()
        assert differences(database) == []
        with database.write() as session:
            comment = Comment(claim_id=None, body="hello @nobody", author="someone")
            session.add(comment)
            session.flush()
            session.add(Mention(comment_id=comment.id, user_name="someone"))
            session.add(InboxRead(user_name="someone", item=f"comment:{comment.id}"))
        with database.read() as session:
            found = session.scalars(select(Comment)).one()
            assert found.to_dict(["someone"])["body"] == "hello @nobody"
            assert found.created_at <= utcnow()
            assert session.scalars(select(Mention.user_name)).all() == ["someone"]
            assert session.scalars(select(InboxRead.item)).all() == [f"comment:{found.id}"]
    finally:
        database.dispose()
