"""A data folder made at every earlier schema revision comes up at head with nothing lost.

For each revision in the script directory (0001 ... head, read from Alembic, never listed
here) and each backend, a database is built revision by revision with real rows in every
table (tests/upgrades/r<revision>.py), upgraded with `annotations.schema.upgrade` (what
`annotator init` runs), and compared with a reference made at head from the same rows as
the seeds' `carry` says the migrations leave them: every row of every table, the schema
(columns, indexes, triggers, constraints), the spatial index, and the bytes the API serves
for every annotation, its history and the newsroom's reads. Then the upgraded folder is used:
a sign-in, a new site, an annotation edited.

A new migration without seed rows for what it adds fails here (see tests/upgrades/__init__.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from annotations.db import Database, sqlite_url
from annotations.schema import current, differences, head, upgrade
from annotator import create_app, services
from tests.postgis import ThrowawayCluster
from tests.upgrades import seed
from tests.upgrades.build import (
    build_at,
    build_reference,
    coverage_gaps,
    expected_counts,
    revisions,
    up_to,
)
from tests.upgrades.compare import (
    answers,
    as_stored,
    first_difference,
    schema,
    spatial_index,
    table_rows,
    urls,
)
from tests.upgrades.r0001 import ADMIN_TOKEN, PASSWORD, REVOKED_TOKEN
from tests.upgrades.rows import Row

UPGRADES = Path(__file__).resolve().parents[1] / "upgrades"


@dataclass
class Folder:
    """A data folder, with its database on SQLite (in the folder) or on PostGIS."""

    path: Path
    url: str
    database: Database
    apps: list[Flask] = field(default_factory=list)

    def app(self) -> Flask:
        config = {"DATA_DIR": str(self.path), "DATABASE_URL": self.url, "TESTING": True}
        self.apps.append(create_app({**config, "SECRET_KEY": "upgrade-test"}))
        return self.apps[-1]

    def close(self) -> None:
        for app in self.apps:
            services.database(app).dispose()
        self.database.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def folders(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Folder, Folder]]:
    """Two empty data folders: one to build and upgrade, one for the reference at head."""
    made = []
    for name in ("upgraded", "reference"):
        path = tmp_path / name
        path.mkdir()
        if request.param == "sqlite":
            url = sqlite_url(path / "annotator.db")
        else:
            cluster: ThrowawayCluster = request.getfixturevalue("postgis_cluster")
            url = cluster.create_database()
        made.append(Folder(path, url, Database(url)))
    yield made[0], made[1]
    for folder in made:
        folder.close()


@pytest.mark.parametrize("start", revisions())
def test_a_folder_at_each_revision_upgrades_to_head_with_nothing_lost(
    start: str, folders: tuple[Folder, Folder]
) -> None:
    upgraded, reference = folders
    build_at(upgraded.database, start)
    assert current(upgraded.database) == start
    gaps = coverage_gaps(upgraded.database)
    assert not gaps, (
        f"at schema {start} the seed rows leave {'; '.join(gaps)}: add rows to "
        f"tests/upgrades/r{start}.py (see tests/upgrades/__init__.py)"
    )

    assert upgrade(upgraded.database) == head()
    build_reference(reference.database, start)

    # every table holds exactly the rows written, and each row what the reference holds
    found, wanted = table_rows(upgraded.database), table_rows(reference.database)
    counts = {table: len(rows) for table, rows in found.items()}
    assert counts == {table: expected_counts(start)[table] for table in found}
    for table in found:
        assert found[table] == wanted[table], (
            f"{table}: built through the migrations to {start} and upgraded to head, "
            f"{first_difference(found[table], wanted[table])}"
        )
    assert differences(upgraded.database) == [], "the upgraded schema differs from the models"
    assert schema(upgraded.database) == schema(reference.database)
    assert spatial_index(upgraded.database) == spatial_index(reference.database)

    # the API serves the same bytes from both: features, histories, catalogue, newsroom
    paths = urls(start)
    app = upgraded.app()
    served = answers(app, list(paths), ADMIN_TOKEN)
    expected = answers(reference.app(), list(paths), ADMIN_TOKEN)
    for path in paths:
        assert served[path] == expected[path], f"GET {path} after the upgrade from {start}"
    assert {path: answer[0] for path, answer in served.items()} == paths
    _check_against_seeds(served, start)

    _use(app, start)


def _seed_rows(table: str, start: str) -> list[Row]:
    return [row for r in up_to(start) for row in seed(r).rows.get(table, [])]


def _check_against_seeds(served: dict[str, tuple[int, str | None, bytes]], start: str) -> None:
    """The reference is built from the seeds too: tie the answers to the seeds themselves, so
    rows lost on both sides (a seed never written) cannot pass as equal."""
    revisions_of: dict[str, list[Row]] = {}
    for row in _seed_rows("revisions", start):
        revisions_of.setdefault(row["annotation_id"], []).append(row)
    for row in _seed_rows("annotations", start):
        if row["deleted_at"] is None:
            feature = json.loads(served[f"/api/v1/annotations/{row['id']}"][2])
            assert feature["id"] == row["id"]
            assert feature["geometry"] == json.loads(row["geometry_geojson"])
            assert feature["properties"]["version"] == row["version"]
        history = json.loads(served[f"/api/v1/annotations/{row['id']}/history"][2])
        entries = history["revisions"] if isinstance(history, dict) else history
        assert [(e["version"], e["action"], e["actor"]) for e in entries] == [
            (r["version"], r["action"], r["actor"]) for r in revisions_of[row["id"]]
        ]
        box = ",".join(str(row[k]) for k in ("min_lon", "min_lat", "max_lon", "max_lat"))
        search = json.loads(served[f"/api/v1/annotations?bbox={box}"][2])
        ids = {f["id"] for f in search["features"]}
        assert (row["id"] in ids) == (row["deleted_at"] is None), f"bbox search for {row['id']}"
    users = json.loads(served["/api/v1/users"][2])["users"]
    assert sorted(u["name"] for u in users) == sorted(r["name"] for r in _seed_rows("users", start))


def _use(app: Flask, start: str) -> None:
    """The upgraded folder works: a seeded password signs in, a revoked token is refused,
    an admin adds a site, and (from 0002) an annotation takes an edit."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    signed_in = client.post(
        "/login", data={"name": "editor", "password": PASSWORD, "csrf_token": csrf[1]}
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    refused = client.get(
        "/api/v1/annotations", headers={"Authorization": f"Bearer {REVOKED_TOKEN}"}
    )
    assert refused.status_code == 401
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    added = client.post(
        "/api/v1/sites",
        json={"name": "Latakia port", "lon": 35.77, "lat": 35.52, "radius_m": 800},
        headers=admin,
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    annotations = _seed_rows("annotations", start)
    if not annotations:
        return
    row = next(r for r in annotations if r["deleted_at"] is None)
    edited = client.patch(
        f"/api/v1/annotations/{row['id']}",
        json={"type": "Feature", "properties": {"notes": "checked after the upgrade"}},
        headers={**admin, "If-Match": f'"{row["id"]}-v{row["version"]}"'},
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["properties"]["version"] == row["version"] + 1


def test_names_that_differ_only_in_case_stop_the_upgrade_to_0006_and_change_nothing(
    folders: tuple[Folder, Folder],
) -> None:
    """0006's one data check: two accounts whose names differ only in case are named, and the
    folder stays at 0005 as it was until an admin renames one; then the upgrade goes through."""
    database = folders[0].database
    build_at(database, "0005")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, name, role_name, password_hash, active, created_at) "
                "VALUES (99, 'Analyst', 'viewer', NULL, :yes, :now)"
            ),
            {"yes": True, "now": datetime(2025, 1, 2, 3, 4, 5)},
        )
    before = as_stored(database)
    with pytest.raises(ValueError, match=r"analyst \(id 3\) and Analyst \(id 99\)"):
        upgrade(database)
    assert current(database) == "0005"
    assert as_stored(database) == before
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE users SET name = 'analyst-2' WHERE id = 99"))
    assert upgrade(database) == head()


def test_every_seed_module_is_a_revision_of_the_migrations() -> None:
    """A seed left behind for a revision that was renamed or removed is a mistake."""
    names = {path.stem[1:] for path in UPGRADES.glob("r[0-9]*.py")}
    assert names == set(revisions())
