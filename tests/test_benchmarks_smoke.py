"""Every benchmark in its smoke mode (`python -m benchmarks.<subject> --smoke`): tiny counts,
a temporary working folder and report, so a benchmark that no longer runs fails here rather
than at the next `make bench`. Nothing here is about speed: the reports must have their
sections, and the checks the benchmarks make of what they measured (every tile decodes, every
answer holds the floor's ids, every import counts its features) must hold.

A peer a benchmark compares against that is not installed is left out and named in the
report: TiTiler (.venv-bench, which only `make bench` creates) always may be; PostGIS and
Chromium may be only outside CI (under CI=true `make test` installs them, as for the other
tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgis import missing as postgis_missing

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")


def smoke(subject: str, tmp_path: Path) -> str:
    """Run one benchmark's smoke mode; the text of the report it wrote."""
    doc = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [
            *(sys.executable, "-m", f"benchmarks.{subject}", "--smoke"),
            *("--out", str(tmp_path / "out"), "--doc", str(doc)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return doc.read_text()


def section(text: str, name: str) -> str:
    """One benchmark's section of the report, between its markers."""
    found = re.search(f"<!-- begin {name} -->\n(.*)\n<!-- end {name} -->", text, re.S)
    assert found, f"no {name} section in:\n{text[:2000]}"
    return found.group(1)


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def test_tiles(tmp_path: Path) -> None:
    part = section(smoke("tiles", tmp_path), "tiles")
    assert headings(part) == [
        "## Tile-serving benchmark",
        "### Targets",
        "### Machine and versions",
        "### Method",
        "### In-process (ms per tile)",
        "### HTTP, 2 workers each",
        "#### Reference runs (diagnostics, not targets)",
        "#### Serving setup: now and before issue 10",
        "#### Server start and first request",
        "### Cache path (app, one connection)",
        "### Observations",
        "### Errors",
    ]
    assert "\n0 bad responses or tiles in total." in part
    assert "| app TileRenderer | PNG |" in part
    assert "| app, gunicorn gthread (before issue 10) | PNG | 1 |" in part
    peer = (ROOT / ".venv-bench" / "bin" / "uvicorn").exists()
    assert ("TiTiler is not installed" in part) is not peer
    if peer:
        assert "| rio-tiler Reader per tile | PNG |" in part
        assert re.search(r"\| TiTiler \| PNG \| 1 \| [0-9.]+ \|", part)


def test_annotations(tmp_path: Path) -> None:
    text = smoke("annotations", tmp_path)
    assert "[benchmarks-annotations.md]" in section(text, "annotations")
    page = (tmp_path / "benchmarks-annotations.md").read_text()
    assert headings(page)[:3] == [
        "# Annotation storage benchmark",
        "## Targets",
        "## Machine and versions",
    ]
    for heading in (
        "## Bounding-box queries of about 20 features",
        "## Where the time goes",
        "## Bulk insert",
        "## Server memory",
        "## Observations",
        "## Errors",
    ):
        assert heading in headings(page)
    assert "\n0 bad answers or failed POSTs." in page
    assert "| SQLite | API: 2 POSTs of 20 features | 40 |" in page
    if postgis_missing() is None or CI:
        assert "the same annotation ids, box by box): SQLite: all, PostGIS: all." in page
        assert "| PostGIS | direct SQL (COPY, triggers on) | 1,000 |" in page
    else:
        assert "PostGIS was left out of this run" in page
        assert "the same annotation ids, box by box): SQLite: all." in page


def test_exchange_import(tmp_path: Path) -> None:
    part = section(smoke("exchange_import", tmp_path), "exchange-import")
    assert headings(part) == ["### Import benchmark: 200-feature GeoPackage"]
    seconds = r"[0-9.]+ s"
    imported = rf"{seconds} \([0-9,]+ features/s\)"
    ratio = r"[0-9.]+x"
    assert re.search(
        rf"\| SQLite \| {seconds} \| {imported} \| {seconds} \| {ratio} \| {seconds} \(200 already",
        part,
    )
    assert re.search(
        rf"`ogr2ogr -f GPKG` copying\nthe same file into a new GeoPackage took {seconds}", part
    )
    assert "| importing the same file again | ≤ 2 s |" in part
    if postgis_missing() is None or CI:
        assert "| PostGIS |" in part
    else:
        assert "PostGIS was left out of this run" in part


def test_exchange(tmp_path: Path) -> None:
    part = section(smoke("exchange", tmp_path), "exchange")
    assert headings(part) == [
        "## GIS exchange benchmark",
        "### 300 annotations",
        "### Import of the 100,000-feature GeoPackage",
        "### Machine",
    ]
    for name in ("gpkg", "shp"):
        assert re.search(rf"\| {name} \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| \*\*", part), name
    created = re.search(
        r"\| import \| [0-9.]+ s \([0-9,]+ features/s\) \| ([0-9,]+) \| 0 \| 0 \|", part
    )
    assert created and int(created.group(1).replace(",", "")) > 250
    assert re.search(
        rf"\| the same file again \| [0-9.]+ s \| 0 \| {created.group(1)} \| 0 \|", part
    )


def test_story_outputs(tmp_path: Path) -> None:
    part = section(smoke("story_outputs", tmp_path), "story-outputs")
    assert headings(part) == ["## Story outputs"]
    for output in ("figure PNG", "figure SVG", "map HTML", "evidence bundle (zip)"):
        assert re.search(rf"\| {re.escape(output)}[^|]* \| \d+ ms \| \d+ ms \| [0-9.]+ MB \|", part)
    assert re.search(r"\| verify_bundle \| \d+ ms \| \d+ ms \| 0 B \|", part)  # no problems


def test_duplicates(tmp_path: Path) -> None:
    if postgis_missing() and not CI:
        pytest.skip(f"PostGIS is not installed: {postgis_missing()}")
    part = section(smoke("duplicates", tmp_path), "duplicates")
    assert headings(part) == ["### Duplicate check on save"]
    for backend in ("SQLite", "PostGIS"):
        # half of the 10 saves with the check are a second box on an object: each warns
        assert re.search(rf"\| {backend} \| 400 \| [0-9.]+ / [0-9.]+ ms \|.*\| 5 of 10 \|", part)


def test_site_filter(tmp_path: Path) -> None:
    if postgis_missing() and not CI:
        pytest.skip(f"PostGIS is not installed: {postgis_missing()}")
    part = section(smoke("site_filter", tmp_path), "site_filter")
    assert headings(part) == ["### Site filter by area"]
    for backend in ("SQLite", "PostGIS"):  # the counts by area were checked by the benchmark
        assert re.search(rf"\| {backend} \| 420 \| [0-9.]+ / [0-9.]+ ms \| [0-9.]+ / ", part)


def test_timeline(tmp_path: Path) -> None:
    part = section(smoke("timeline", tmp_path), "timeline")
    assert headings(part) == ["### Site timeline counts"]
    assert re.search(r"\| 3 \| 60 \| [0-9.]+ ms \| [0-9.]+ ms \|", part)
    assert re.search(r"\| 5 \| 100 \| [0-9.]+ ms \| [0-9.]+ ms \|", part)


def test_workspace(tmp_path: Path) -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        if CI:
            raise
        pytest.skip("Playwright is not installed (requirements-dev.txt)")
    if not CHROMIUM.exists() and not CI:
        pytest.skip("Debian's Chromium is not installed (make system-deps)")
    part = section(smoke("workspace", tmp_path), "workspace")
    assert headings(part) == [
        "## Workspace benchmark",
        "### Targets",
        "### Details",
        "### Machine",
    ]
    assert "| first render of 200 annotations, median of 1 page loads |" in part
    assert "| click on Save until the API has stored it, median of 1 |" in part
    assert "| review queue of 20 items with their chips, load event, median of 1 |" in part
    assert re.search(r"\| 1 \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ kB \|", part)


def test_backup(tmp_path: Path) -> None:
    part = section(smoke("backup", tmp_path), "backup")
    assert headings(part) == [
        "## Backup benchmark",
        "### Targets",
        "### Data",
        "### Backup time",
        "### Tile requests while backing up",
        "### Where our time goes",
        "### Machine and load",
    ]
    for kind in ("cold", "warm"):  # each way once, and each backup holds every COG
        assert re.search(
            rf"\| {kind} 0 \| peer \| [0-9.]+ \| .* \| 4 COGs \(4 hard-linked\) \|", part
        )
        assert re.search(
            rf"\| {kind} 0 \| ours \| [0-9.]+ \| .* \| 4 COGs \(4 hard-linked\), "
            r"manifest counts 1000 annotations and [0-9]+ revisions \|",
            part,
        )
    assert "\n0 failed tile requests in total." in part
    assert re.search(r"\| idle \| [1-9][0-9]* \| 0 \|", part)  # the tile client ran
    assert "| make_backup | " in part  # the profile found the backup's own code


def test_ogcapi(tmp_path: Path) -> None:
    part = section(smoke("ogcapi", tmp_path), "ogcapi")
    assert headings(part) == ["### OGC API - Features items"]
    # every answer was checked by the benchmark (200, full pages, no feature twice)
    for name in (
        "annotations: walk by next links",
        "site-<slug>: first page of each site",
        "REST API peer: /api/v1/annotations walk",
    ):
        assert re.search(rf"\| {re.escape(name)} \| [0-9]+ \| [0-9.]+ \| ", part), name


def test_benchmarks_are_not_left_behind() -> None:
    """A benchmark added to `make bench` has its smoke test here."""
    bench = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if "-m benchmarks." in line
    )
    run = re.findall(r"-m benchmarks\.(\w+)", bench)
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert run and set(run) <= tested, set(run) - tested


def test_ingest(tmp_path: Path) -> None:
    part = section(smoke("ingest", tmp_path), "ingest")
    assert headings(part) == [
        "### Ingest at scale",
        "#### A 600 x 600 RGB scene (0.00 gigapixels) from the command line",
        "#### A 400 x 400 RGB upload over HTTP, and tiles meanwhile",
    ]
    # both sides' time and memory, and the sum of the import's processes (its sandbox child)
    row = r"\| 1 \| [0-9.]+ s \| [0-9]+ MB \| [0-9]+% \| [0-9.]+ s \| [0-9]+ MB \| [0-9]+ MB \|"
    assert re.search(row, part), part
    # each upload answered once received, its job ingested it, and no worker was killed
    assert re.search(r"the upload answered 20[12] after [0-9.]+ s", part)
    assert re.search(r"the mean of [0-9.]+ s just before the upload and [0-9.]+ s just after", part)
    assert part.count("job ended `done`") == 2, part
    assert "Workers killed for a timeout during both uploads: 0." in part
    idle = re.search(r"\| server idle \| [0-9.]+ \| .* \| ([0-9]+) \| ([0-9]+) \|", part)
    assert idle and int(idle.group(1)) > 0 and idle.group(2) == "0", part


def test_georeference(tmp_path: Path) -> None:
    part = section(smoke("georeference", tmp_path), "georeference")
    assert headings(part) == ["### Georeferencing a press picture"]
    for method in ("affine", "tps"):  # both warps ran, the app's and gdalwarp's
        assert re.search(rf"\| {method} \| [0-9.]+ s \| [0-9.]+ s \| [0-9.]+x \|", part), part
    # every preview and residuals request answered 200 (the benchmark checks each)
    preview = r"\| `POST /api/v1/georeference/preview` \([0-9]+ px WebP\) \| [0-9.]+ ms"
    assert re.search(preview, part), part


def test_setup_batch(tmp_path: Path) -> None:
    """The set-up commands a benchmark runs in one process (benchmarks.common.cli_batch; the
    smoke runs above use its outputs): a user who exists already is no failure (as
    `add_user`), and the first command that fails is named and stops the ones after it."""
    import sqlite3

    from benchmarks.common.servers import Annotator

    def adding(name: str) -> tuple[tuple[str, ...], str]:
        return ("users", "add", name, "--role", "viewer", "--password-stdin"), "a long password"

    cli = Annotator(tmp_path / "instance")
    with pytest.raises(RuntimeError, match=r"annotator tokens create nobody failed: .*nobody"):
        cli.batch(
            (("init",), None),
            adding("bench"),
            adding("bench"),
            (("tokens", "create", "nobody"), None),
            adding("later"),
        )
    con = sqlite3.connect(tmp_path / "instance" / "annotator.db")
    try:
        assert [name for (name,) in con.execute("SELECT name FROM users")] == ["bench"]
    finally:
        con.close()
