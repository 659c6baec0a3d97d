"""Concurrent imports never lose an accepted image (issue 12 item 4).

Analyst A imports X while analyst B imports the batch [X, a truncated file]. B's batch
fails; its cleanup must not take away the COG of X that A's import catalogued. The two
imports run at once in two threads (each ingest in its own child process); their progress
callbacks hold each one at the step where the old code lost X:

    B ingests X  ->  A ingests X  ->  B's second file fails and B cleans up  ->  A records X

On SQLite and on PostGIS. Afterwards X is in the catalogue, its COG is on disk and its
thumbnail answers 200.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Imported, Upload, import_images
from tests.conftest import login

WAIT_S = 60.0


def test_a_failed_batch_does_not_take_away_an_image_another_import_accepted(
    app_on_each_backend: Flask, make_geotiff: Callable[..., Path], tmp_path: Path
) -> None:
    app = app_on_each_backend
    store = Path(app.config["IMAGES_DIR"])
    scene = make_geotiff("x.tif")
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(make_geotiff("whole.tif").read_bytes()[:3000])
    b_has_ingested_x = threading.Event()
    a_has_ingested_x = threading.Event()
    b_is_over = threading.Event()

    def a_progress(fraction: float, message: str) -> None:
        if message.startswith("ingesting"):
            assert b_has_ingested_x.wait(WAIT_S)
        elif message.startswith("recording"):
            a_has_ingested_x.set()
            assert b_is_over.wait(WAIT_S)

    def b_progress(fraction: float, message: str) -> None:
        if "(2 of 2)" in message:
            b_has_ingested_x.set()
            assert a_has_ingested_x.wait(WAIT_S)

    outcomes: dict[str, list[Imported] | BaseException] = {}

    def run(who: str, uploads: list[Upload], progress: Callable[[float, str], None]) -> None:
        try:
            outcomes[who] = import_images(
                services.database(app),
                store,
                uploads,
                Provenance(provider=who),
                created_by=who,
                max_pixels=10**9,
                progress=progress,
            )
        except BaseException as exc:
            outcomes[who] = exc
        finally:
            if who == "b":
                b_is_over.set()
                b_has_ingested_x.set()

    a = threading.Thread(target=run, args=("a", [Upload(scene, "x.tif")], a_progress))
    b = threading.Thread(
        target=run,
        args=("b", [Upload(scene, "x.tif"), Upload(truncated, "truncated.tif")], b_progress),
    )
    a.start()
    b.start()
    a.join(WAIT_S * 2)
    b.join(WAIT_S * 2)
    assert isinstance(outcomes["b"], Exception), outcomes["b"]
    assert "truncated.tif" in str(outcomes["b"])
    accepted = outcomes["a"]
    assert isinstance(accepted, list), accepted
    [imported] = accepted
    assert imported.created
    cog = store / imported.image.cog_name
    assert cog.is_file(), "the accepted image's COG was removed by the failed batch"
    assert sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) == [cog.name]
    client = app.test_client()
    login(client, "analyst")
    response = client.get(f"/images/{imported.image.id}/thumbnail.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
