"""The same storage tests on SQLite and on a real PostgreSQL + PostGIS server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import shapely
from sqlalchemy import select, text

from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, add_site, get_site
from annotations.catalogue.users import Role, User, add_user, authenticate, get_user
from annotations.db import Database
from annotations.schema import current, differences, head, upgrade
from tests.postgis import ThrowawayCluster

HMEIMIM = shapely.Polygon(
    [(35.93, 35.39), (35.97, 35.39), (35.97, 35.42), (35.93, 35.42), (35.93, 35.39)]
)
PASSWORD = "long password 123"


def test_backend_is_the_one_asked_for(database_url: str) -> None:
    database = Database(database_url)
    try:
        expected = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        assert database.engine.dialect.name == expected
        assert database.is_sqlite == (expected == "sqlite")
    finally:
        database.dispose()


def test_migrations_apply_and_are_idempotent(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert current(database) is None, "each test starts from an empty database"
        assert upgrade(database) == head()
        assert current(database) == head()
        assert upgrade(database) == head(), "running init twice changes nothing"
        assert current(database) == head()
    finally:
        database.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        upgrade(database)
        assert differences(database) == []
    finally:
        database.dispose()


def test_site_and_user_round_trip(database_url: str) -> None:
    database = Database(database_url)
    try:
        upgrade(database)
        before = datetime.now(UTC)
        with database.write() as session:
            site = add_site(session, "Hmeimim air base", HMEIMIM, created_by="analyst1")
            assert site.slug == "hmeimim-air-base"
            add_user(session, "analyst1", Role.analyst, PASSWORD)
        after = datetime.now(UTC)

        with database.read() as session:
            site = get_site(session, "hmeimim-air-base")
            assert site.name == "Hmeimim air base"
            assert site.created_by == "analyst1"
            assert site.area.equals(HMEIMIM)
            assert site.bbox == [35.93, 35.39, 35.97, 35.42]
            assert site.images == []
            assert site.created_at.tzinfo is not None
            assert site.created_at.utcoffset() == timedelta(0)
            assert before - timedelta(seconds=1) <= site.created_at <= after
            assert site.to_dict()["created_at"].endswith("Z")

            user = get_user(session, "analyst1")
            assert user.role is Role.analyst
            assert user.active is True
            assert user.can(Role.analyst) and not user.can(Role.editor)
            assert user.created_at.utcoffset() == timedelta(0)
            assert authenticate(session, "analyst1", PASSWORD) is not None
            assert authenticate(session, "analyst1", "wrong password 123") is None
            assert session.scalar(select(Site).where(Site.overlapping(HMEIMIM.bounds))) is not None
            assert [u.name for u in session.scalars(select(User))] == ["analyst1"]
            assert session.scalars(select(Image)).all() == []
    finally:
        database.dispose()


def test_postgis_is_really_there(postgis_cluster: ThrowawayCluster) -> None:
    database = Database(postgis_cluster.create_database())
    try:
        with database.engine.connect() as connection:
            version = connection.execute(text("SELECT postgis_version()")).scalar_one()
            area = connection.execute(
                text("SELECT ST_Area(ST_GeomFromText(:wkt, 4326))"), {"wkt": HMEIMIM.wkt}
            ).scalar_one()
        assert version.split()[0][0].isdigit()
        assert abs(area - HMEIMIM.area) < 1e-12
    finally:
        database.dispose()
