"""Header bombs refused before any pixel is read, in the ingest's child process, and the
leftovers of killed ingests found by the pid in their folder's name (imagery.sandbox).

Each hostile file is a few KB, made here with GDAL's own writer (sparse_ok=TRUE: tiles that
were never written cost nothing on disk). Each is ingested with a CPU limit of 1 s: the
refusal must come from the header check, not from the limit, so each costs well under a
second of CPU.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from imagery.errors import ImageTooLarge
from imagery.sandbox import PREFIX, Limits, ingest_isolated, remove_leftovers, workspace

ONE_SECOND = Limits(cpu_s=1)


def empty(path: Path, **profile: Any) -> Path:
    """A GeoTIFF whose pixels were never written (sparse), with `profile`'s header."""
    base: dict[str, Any] = {
        "driver": "GTiff", "count": 1, "dtype": "uint8", "crs": "EPSG:32636",
        "transform": from_origin(790000, 3922000, 0.5, 0.5), "sparse_ok": True,
        "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **(base | profile)):
        pass
    return path


def many_bands(folder: Path) -> Path:
    return empty(folder / "bands.tif", width=16, height=16, count=3000, interleave="band")


def huge_and_sparse(folder: Path) -> Path:
    return empty(folder / "sparse.tif", width=40000, height=40000, tiled=True)


def one_huge_block(folder: Path) -> Path:
    return empty(folder / "block.tif", width=8192, height=8192, count=4, dtype="float64",
                 tiled=True, blockxsize=8192, blockysize=8192)  # fmt: skip


def many_overviews(folder: Path) -> Path:
    path = folder / "overviews.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2048, height=2048, count=1,
                       dtype="uint8", crs="EPSG:32636", compress="deflate", tiled=True,
                       transform=from_origin(790000, 3922000, 0.5, 0.5)) as dataset:  # fmt: skip
        dataset.write(np.full((1, 2048, 2048), 7, dtype="uint8"))
        dataset.build_overviews(list(range(2, 42)))
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (many_bands, "bands.tif has 3,000 bands, over the limit of 64"),
        (huge_and_sparse, "sparse.tif declares 40,000 x 40,000 pixels (1.5 GB) in a file of"),
        (one_huge_block, "block.tif is stored in blocks of 8192 x 8192 pixels (2,048 MB each)"),
        (many_overviews, "overviews.tif declares 30 overview levels, over the limit of 20"),
    ],
    ids=["3000-bands", "40000-px-sparse", "2-GB-block", "30-overviews"],
)
def test_a_header_bomb_is_refused_from_its_header_in_one_line(
    make: Callable[[Path], Path], said: str, tmp_path: Path
) -> None:
    hostile = make(tmp_path)
    assert hostile.stat().st_size < 250_000
    work = workspace(tmp_path / "images")
    with pytest.raises(ImageTooLarge) as refused:
        ingest_isolated(hostile, work, limits=ONE_SECOND)
    message = str(refused.value)
    assert said in message and "\n" not in message
    assert "CPU" not in message  # the header check refused it, not the 1 s limit
    assert list(work.iterdir()) == []  # refused before the COG was begun


def test_leftovers_of_dead_processes_on_this_host_go_and_the_others_stay(
    tmp_path: Path,
) -> None:
    store = tmp_path / "images"
    store.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = socket.gethostname()
    gone = store / f"{PREFIX}{host}-{dead.stdout.strip()}-abc123"
    living = store / f"{PREFIX}{host}-{os.getppid()}-def456"
    elsewhere = store / f"{PREFIX}another-machine-{dead.stdout.strip()}-ghi789"
    legacy_old = store / f"{PREFIX}k2j4h5.tif"
    legacy_new = store / f"{PREFIX}p9q8r7.tif"
    for folder in (gone, living, elsewhere):
        folder.mkdir()
        (folder / "half-written.tif").write_bytes(b"II*\x00" + bytes(1000))
    legacy_old.write_bytes(b"II*\x00")
    legacy_new.write_bytes(b"II*\x00")
    os.utime(legacy_old, (0, 0))
    keep = store / "f135d521.tif"
    keep.write_bytes(b"II*\x00")
    removed = remove_leftovers(store)
    assert sorted(removed) == sorted([gone.name, legacy_old.name])
    assert sorted(p.name for p in store.iterdir()) == sorted(
        [living.name, elsewhere.name, legacy_new.name, keep.name]
    )


def test_the_upload_forms_header_is_read_in_a_child_under_limits(tmp_path: Path) -> None:
    """The Add imagery form's prefill reads a file sent to the app in a child: the same
    answer as reading it in place; and a header with a 20 MB tag is read under the child's
    memory limit (given no room, the tag is not read), never the caller's."""
    from imagery.header import nothing_found, read_header
    from imagery.sandbox import read_header_isolated
    from tests.conftest import write_geotiff

    data = np.random.default_rng(2).integers(1, 255, (3, 20, 30), dtype=np.uint8)
    tags = {"TIFFTAG_DATETIME": "2024:12:13 08:21:00", "SENSOR": "WorldView-3"}
    dated = write_geotiff(tmp_path / "dated.tif", data, tags=tags)
    before = resource.getrlimit(resource.RLIMIT_AS)
    found = read_header_isolated(dated)
    assert found == read_header(dated)
    assert found["sensor"] == "WorldView-3" and found["captured"] == "2024-12-13T08:21:00Z"
    big = write_geotiff(tmp_path / "big.tif", data, tags=tags | {"NOTE": "x" * 20_000_000})
    assert read_header(big)["sensor"] == "WorldView-3"  # read in place, given the room
    cramped = read_header_isolated(big, Limits(memory_mb=16))
    assert cramped["sensor"] is None and cramped["width"] == 30
    assert read_header_isolated(tmp_path / "gone.tif") == nothing_found()  # the child failed
    assert resource.getrlimit(resource.RLIMIT_AS) == before


MAIN_SCRIPT = """
import sys
from pathlib import Path

with open(sys.argv[1], "a") as runs:  # each run of this script as a module adds a line
    runs.write(__name__ + "\\n")

if __name__ == "__main__":
    from imagery.sandbox import ingest_isolated

    facts = ingest_isolated(Path(sys.argv[2]), Path(sys.argv[3]))
    print(facts.width, facts.height)
"""


@pytest.mark.parametrize("how", ["script", "module"])
def test_the_child_does_not_run_the_main_script_again(tmp_path: Path, how: str) -> None:
    """An ingest's child is forked from the forkserver and needs nothing of the main module
    of the process that asked for it. multiprocessing would run that module again in every
    child (a console script such as `annotator`: the whole app imported again, seconds of
    CPU per image) unless the forkserver stands in for it: the script's body runs once, in
    its own process, whether it was started by path or with `python -m`."""
    from tests.conftest import write_geotiff

    (tmp_path / "ingest_main.py").write_text(MAIN_SCRIPT)
    source = write_geotiff(tmp_path / "scene.tif")
    runs, work = tmp_path / "runs.txt", tmp_path / "work"
    work.mkdir()
    launch = [str(tmp_path / "ingest_main.py")] if how == "script" else ["-m", "ingest_main"]
    root = Path(__file__).resolve().parents[2]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(root), str(tmp_path)])}
    done = subprocess.run(
        [sys.executable, *launch, str(runs), str(source), str(work)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["400", "300"]
    assert runs.read_text().splitlines() == ["__main__"]
