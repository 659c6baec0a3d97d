"""A publication's figure and bundle are made once and then served from a bounded cache on disk
(a publication never changes); one figure range, 100 to 8000 px, wherever it is asked for; and
the bundle is signed with the server's key, which anyone can fetch and check it with."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from PIL import Image
from shapely.geometry import Point

from annotations.newsroom.bundle import PUBLIC_KEY, SIGNATURE
from annotator import story
from annotator.cli import main
from annotator.disk_cache import DiskCache
from tests.newsroom import Newsroom, newsroom

CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)


def published(room: Newsroom) -> tuple[str, dict[str, object]]:
    """A report with one approved annotation, published: (its API base, the publication)."""
    return room.published()


def cache_folder(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / "cache" / "outputs"


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    return newsroom(app_on_each_backend, make_geotiff(), CAPTURED)


@pytest.fixture
def sqlite_room(app: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    return newsroom(app, make_geotiff(), CAPTURED)


def test_a_figure_is_made_once_per_publication_and_size(room: Newsroom) -> None:
    base, publication = published(room)
    first = room.call("GET", f"{base}/figure.png?width=640", "analyst")
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    again = room.call("GET", f"{base}/figure.png?width=640", "viewer")
    assert again.status_code == 200 and again.headers["X-Cache"] == "hit"
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    kept = cache_folder(room.app) / f"{publication['sha256']}-d{story.DRAWING}-640xauto.png"
    assert kept.read_bytes() == first.data
    assert Image.open(io.BytesIO(again.data)).size[0] == 640
    # another size, format or choice of annotations is another entry
    for query in ("figure.png?width=640&height=480", "figure.svg?width=640", "figure.png"):
        other = room.call("GET", f"{base}/{query}")
        assert other.status_code == 200 and other.headers["X-Cache"] == "miss", query
        assert other.data != first.data
        assert room.call("GET", f"{base}/{query}").headers["X-Cache"] == "hit", query
    annotation_id = json.loads(
        room.call("GET", f"{base}/publications/1").data)["annotations"][0]["id"]  # fmt: skip
    chosen = room.call("GET", f"{base}/figure.png?width=640&annotations={annotation_id}")
    assert chosen.headers["X-Cache"] == "miss"
    names = sorted(p.name for p in cache_folder(room.app).iterdir() if not p.name.startswith("."))
    assert len(names) == 5 and all(n.startswith(str(publication["sha256"])) for n in names)
    # the cache never lets anyone past the report's own checks
    assert room.app.test_client().get(f"{base}/figure.png?width=640").status_code == 401


def test_outputs_drawn_before_an_upgrade_are_drawn_again(
    sqlite_room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publication never changes, the code drawing it may (an Arabic map's words): outputs
    cached, and the map's ETag handed out, under an older drawing are not served again."""
    base, _ = published(sqlite_room)
    figure = sqlite_room.call("GET", f"{base}/figure.png?width=320")
    old_map = sqlite_room.call("GET", f"{base}/map.html")
    assert figure.headers["X-Cache"] == "miss" and old_map.status_code == 200
    assert sqlite_room.call("GET", f"{base}/figure.png?width=320").headers["X-Cache"] == "hit"
    monkeypatch.setattr(story, "DRAWING", story.DRAWING + 1)
    assert sqlite_room.call("GET", f"{base}/figure.png?width=320").headers["X-Cache"] == "miss"
    again = sqlite_room.call(
        "GET", f"{base}/map.html", headers={"If-None-Match": old_map.headers["ETag"]}
    )
    assert again.status_code == 200 and again.headers["ETag"] != old_map.headers["ETag"]
    kept = {p.name for p in cache_folder(sqlite_room.app).iterdir()}
    assert {f"{n}-map.html" for n in ("d" + str(story.DRAWING - 1), "d" + str(story.DRAWING))} <= {
        name.split("-", 1)[1] for name in kept
    }


def test_a_new_publication_gets_its_own_figures(sqlite_room: Newsroom) -> None:
    room = sqlite_room
    base, first = published(room)
    assert room.call("GET", f"{base}/figure.png?width=320").headers["X-Cache"] == "miss"
    # changed evidence is another publication (another sha256), with figures of its own
    edited = room.call("PATCH", base, json={"title": "A new title"})
    assert edited.status_code == 200, edited.get_json()
    second = room.call("POST", f"{base}/publish").get_json()
    assert second["number"] == 2 and second["sha256"] != first["sha256"]
    assert room.call("GET", f"{base}/figure.png?width=320").headers["X-Cache"] == "miss"
    old = room.call("GET", f"{base}/figure.png?width=320&publication=1")
    assert old.headers["X-Cache"] == "hit"


def test_sizes_outside_the_range_are_refused_naming_it(sqlite_room: Newsroom) -> None:
    base, _ = published(sqlite_room)
    for name in ("width", "height"):
        for value in ("99", "8001", "0", "-5", "1e3", "abc"):
            refused = sqlite_room.call("GET", f"{base}/figure.png?{name}={value}")
            assert refused.status_code == 400, (name, value)
            message = refused.get_json()["message"]
            assert message == f"{name} must be a whole number of pixels from 100 to 8000"
    folder = cache_folder(sqlite_room.app)
    assert not folder.exists() or not [p for p in folder.iterdir() if not p.name.startswith(".")]


def test_the_ends_of_the_range_are_taken(sqlite_room: Newsroom) -> None:
    """100 px (the README's least) is drawn; it was refused by the renderer's own 200."""
    base, _ = published(sqlite_room)
    small = sqlite_room.call("GET", f"{base}/figure.png?width=100&height=100")
    assert small.status_code == 200, small.get_json()
    assert Image.open(io.BytesIO(small.data)).size == (100, 100)
    assert sqlite_room.call("GET", f"{base}/figure.svg?width=100").status_code == 200


def test_one_range_in_the_renderer_the_api_its_description_and_the_cli(app: Flask) -> None:
    from imagery import figure
    from imagery.errors import BadFigureRequest

    assert (figure.MIN_SIDE_PX, figure.MAX_SIDE_PX) == (100, 8000)
    assert (story.FIGURE_MIN_PX, story.FIGURE_MAX_PX) == (100, 8000)
    for name, value in (("width_px", 8001), ("width_px", 99), ("height_px", 8001)):
        spec = figure.FigureSpec(cog_path=Path("unused.tif"), focus=Point(0, 0), overlays=(),
                                 caption="", credit=(), **{name: value})  # fmt: skip
        with pytest.raises(BadFigureRequest, match=f"{name} must be between 100 and 8000"):
            figure.layout(spec)
    document = (
        app.test_client()
        .get("/api/v1/openapi.json", headers={"Authorization": _bearer(app)})
        .get_json()
    )
    parameters = document["paths"]["/api/v1/reports/{report_id}/figure.{fmt}"]["get"]["parameters"]
    sizes = {p["name"]: p for p in parameters if p.get("name") in ("width", "height")}
    for parameter in sizes.values():
        assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (100, 8000)
        assert "100 to 8000" in parameter["description"]
    option = next(p for p in main.commands["publish"].params if p.name == "width")
    assert (option.type.min, option.type.max) == (100, 8000)  # type: ignore[attr-defined]


def test_the_app_keeps_its_figure_cache_within_its_bound(sqlite_room: Newsroom) -> None:
    room = sqlite_room
    base, _ = published(room)
    room.app.config["OUTPUT_CACHE_MB"] = 1
    sizes = []
    for width in range(400, 1000, 100):
        response = room.call("GET", f"{base}/figure.png?width={width}")
        assert response.status_code == 200 and response.headers["X-Cache"] == "miss"
        sizes.append(len(response.data))
    assert sum(sizes) > 1 << 20, "the figures asked for are more than the bound"
    kept = [p for p in cache_folder(room.app).iterdir() if not p.name.startswith(".")]
    assert sum(p.stat().st_size for p in kept) <= 1 << 20
    newest = max(w for w, size in zip(range(400, 1000, 100), sizes, strict=True) if size < 1 << 20)
    assert any(p.name.endswith(f"-{newest}xauto.png") for p in kept), "the newest that fits stays"
    assert room.call("GET", f"{base}/figure.png?width=400").headers["X-Cache"] == "miss"


def test_the_bundle_is_cached_signed_and_checks_out_with_the_served_key(
    room: Newsroom, tmp_path: Path
) -> None:
    base, _ = published(room)
    first = room.call("GET", f"{base}/bundle.zip")
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    again = room.call("GET", f"{base}/bundle.zip", "analyst")
    assert again.headers["X-Cache"] == "hit" and again.data == first.data
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(again.data)
    # the key, from the server, with no sign-in
    served = room.app.test_client().get("/api/v1/signing-key")
    assert served.status_code == 200
    key = served.get_json()
    assert key["algorithm"] == "Ed25519" and len(key["sha256"]) == 64
    public = tmp_path / "server.pem"
    public.write_text(key["public_key"])
    runner = CliRunner()
    checked = runner.invoke(main, ["verify", str(bundle), "--key", str(public)])
    assert checked.exit_code == 0, checked.output
    assert f"signed by the key given (sha256:{key['sha256'][:16]}" in checked.stdout
    with zipfile.ZipFile(bundle) as members:
        assert members.read(PUBLIC_KEY).decode() == key["public_key"]
        assert json.loads(members.read(SIGNATURE))["key_sha256"] == key["sha256"]
    # kept in the data folder, readable by the server's user only, printed by the CLI alike
    stored = Path(room.app.config["DATA_DIR"]) / "signing_key"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in stored.read_bytes()
    env = {"ANNOTATOR_DATA_DIR": str(room.app.config["DATA_DIR"]),
           "ANNOTATOR_DATABASE_URL": str(room.app.config["DATABASE_URL"])}  # fmt: skip
    printed = runner.invoke(main, ["keys", "public"], env=env)
    assert printed.exit_code == 0 and printed.stdout == key["public_key"]
    as_json = json.loads(runner.invoke(main, ["keys", "public", "--json"], env=env).stdout)
    assert as_json == key


def test_annotator_publish_signs_its_bundle(sqlite_room: Newsroom, tmp_path: Path) -> None:
    room = sqlite_room
    report = room.report()
    annotation = room.annotation("approved")
    room.link(annotation_id=annotation["id"], report_id=report["id"])
    env = {"ANNOTATOR_DATA_DIR": str(room.app.config["DATA_DIR"]),
           "ANNOTATOR_DATABASE_URL": str(room.app.config["DATABASE_URL"])}  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "story"
    done = runner.invoke(main, ["publish", str(report["id"]), "--by", "editor", "-o", str(out),
                                "--width", "300"], env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    public = tmp_path / "server.pem"
    public.write_text(runner.invoke(main, ["keys", "public"], env=env).stdout)
    [bundle] = out.glob("*-evidence.zip")
    checked = runner.invoke(main, ["verify", str(bundle), "--key", str(public)])
    assert checked.exit_code == 0, checked.output


def test_concurrent_first_requests_for_a_map_all_get_it_whole(sqlite_room: Newsroom) -> None:
    """The first requests for a publication's map make it once (the others wait for it), so all
    get the same bytes; threads of one process once shared a temporary name (their pid)."""
    room = sqlite_room
    base, publication = published(room)
    headers = room.as_("analyst")
    start = threading.Barrier(6)
    answers: list[tuple[int, bytes]] = []

    def ask() -> None:
        client = room.app.test_client()
        start.wait()
        response = client.get(f"{base}/map.html", headers=headers)
        answers.append((response.status_code, response.data))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 6
    assert len({data for _, data in answers}) == 1
    kept = cache_folder(room.app) / f"{publication['sha256']}-d{story.DRAWING}-map.html"
    assert kept.read_bytes() == answers[0][1]
    assert not [p for p in cache_folder(room.app).iterdir() if p.name.startswith(".tmp")]


# ---- the cache itself ----------------------------------------------------------------------


def test_the_cache_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache", max_bytes=1000)
    for age, name in enumerate("abc"):
        assert cache.put(name, name.encode() * 300)
        os.utime(cache.path(name), (1_000_000 + age, 1_000_000 + age))
    assert cache.get("a") == b"a" * 300  # read: now the most recently used
    assert cache.put("d", b"d" * 300)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["a", "c", "d"]
    assert not cache.put("huge", b"x" * 1001), "larger than the whole bound: not kept"
    assert cache.get("huge") is None
    with pytest.raises(ValueError, match="not a cache entry name"):
        cache.path("../escape")


def test_concurrent_requests_make_an_entry_once_and_read_it_whole(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache", max_bytes=1 << 30)
    made = []
    started = threading.Barrier(12)

    def make() -> bytes:
        made.append(1)
        return os.urandom(4 << 20)

    results: list[tuple[bytes, bool]] = []

    def ask() -> None:
        started.wait()
        results.append(cache.get_or_make("figure.png", make))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len({data for data, _ in results}) == 1
    assert sorted(hit for _, hit in results) == [False] + [True] * 11
    assert cache.get("figure.png") == results[0][0]
    leftovers = [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def _bearer(app: Flask) -> str:
    from tests.conftest import token_for

    return f"Bearer {token_for(app, 'viewer')}"


def test_figures_beyond_the_drawing_slots_are_refused_at_once(sqlite_room: Newsroom) -> None:
    """Each size is a new drawing: with every slot of the process taken, a figure that is not
    in the cache gets 503 with Retry-After at once (no thread waits), one that is still comes."""
    base, _ = published(sqlite_room)
    kept = sqlite_room.call("GET", f"{base}/figure.png?width=320", "analyst")
    assert kept.status_code == 200
    app = sqlite_room.app
    with app.app_context():
        slots = [story.drawing_slot() for _ in range(int(app.config["FIGURE_CONCURRENCY"]))]
        for slot in slots:
            slot.__enter__()
        try:
            busy = sqlite_room.call("GET", f"{base}/figure.png?width=333", "analyst")
            again = sqlite_room.call("GET", f"{base}/figure.png?width=320", "analyst")
        finally:
            for slot in slots:
                slot.__exit__(None, None, None)
    assert busy.status_code == 503 and busy.get_json()["error"] == "busy"
    assert int(busy.headers["Retry-After"]) > 0
    assert not any(cache_folder(app).glob("*-333x*")), "nothing half-made is kept"
    assert again.status_code == 200 and again.headers["X-Cache"] == "hit"
    assert again.data == kept.data
    freed = sqlite_room.call("GET", f"{base}/figure.png?width=333", "analyst")
    assert freed.status_code == 200 and freed.headers["X-Cache"] == "miss"
