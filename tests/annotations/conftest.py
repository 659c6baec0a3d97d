"""Fixtures of the domain tests: a world on each storage backend (see tests/domain.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from rasterio.transform import from_origin

from annotations.catalogue.geo import geodesic_circle
from annotations.catalogue.images import Provenance, add_image
from annotations.catalogue.sites import add_site
from annotations.db import Database
from annotations.labels.taxonomy import load_taxonomy
from annotations.schema import upgrade
from imagery.ingest import ingest
from tests.conftest import write_geotiff
from tests.domain import DEC_10, DEC_13, ELSEWHERE, HERE, Captures, World, centre_of


@pytest.fixture(scope="session")
def domain_captures(tmp_path_factory: pytest.TempPathFactory) -> Captures:
    folder = tmp_path_factory.mktemp("domain-captures")

    def made(name: str, seed: int, origin: tuple[float, float], when: datetime | None) -> Any:
        data = np.random.default_rng(seed).integers(1, 255, (3, 300, 400), dtype=np.uint8)
        path = write_geotiff(folder / name, data, transform=from_origin(*origin, 0.5, 0.5))
        return ingest(path, folder / "store", captured=when)

    return Captures(
        store=folder / "store",
        dec_10=made("dec-10.tif", 1, HERE, DEC_10),
        dec_13=made("dec-13.tif", 2, HERE, DEC_13),
        undated=made("undated.tif", 3, HERE, None),
        elsewhere=made("elsewhere.tif", 4, ELSEWHERE, DEC_13),
    )


@pytest.fixture
def domain(database_url: str, domain_captures: Captures) -> Iterator[World]:
    """A fresh world on each storage backend in turn."""
    database = Database(database_url)
    upgrade(database)
    provenance = Provenance(provider="Test Provider", licence="CC BY 4.0")
    with database.write() as session:
        add_site(session, "Hmeimim", geodesic_circle(*centre_of(HERE), 1000), slug="hmeimim")
        add_site(session, "Elsewhere", geodesic_circle(*centre_of(ELSEWHERE), 1000))
        ids = [
            add_image(session, facts, provenance).id
            for facts in (
                domain_captures.dec_10,
                domain_captures.dec_13,
                domain_captures.undated,
                domain_captures.elsewhere,
            )
        ]
    try:
        yield World(database, domain_captures.store, load_taxonomy(), *ids)
    finally:
        database.dispose()
