"""`annotator import`, run as a user would: dry run, real import, bad paths."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.annotator import test_cli

Run = Callable[..., tuple[int, str, str]]
run = test_cli.run  # the shared CLI runner fixture


@pytest.fixture
def ready(run: Run, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("ANNOTATOR_MAX_UPLOAD_MB", "1")
    run("init")
    code, _, err = run("images", "import", str(shared_data / "sample_geotiff.tif"))
    assert code == 0, err
    code, _, err = run("users", "add", "ana", "--role", "analyst", "--password-stdin",
                       stdin="a long enough password\n")  # fmt: skip
    assert code == 0, err
    code, _, err = run("users", "add", "vic", "--role", "viewer", "--password-stdin",
                       stdin="a long enough password\n")  # fmt: skip
    assert code == 0, err
    return run


def test_atlanta_dry_run_then_import_then_again(ready: Run, shared_data: Path, tmp_path: Path
                                                ) -> None:  # fmt: skip
    labels = str(shared_data / "geotiff_labels.geojson")
    label_map = tmp_path / "map.csv"
    label_map.write_text("value,label\nyes,structure\n")
    code, out, err = ready("import", labels, "--label-field", "building", "--label-map",
                           str(label_map), "--dry-run")  # fmt: skip
    assert code == 0, err
    assert "would create 43" in out and "structure: 43" in out
    code, out, err = ready("import", labels, "--label-field", "building", "--label-map",
                           str(label_map), "--user", "ana", "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["created"] == 43 and len(report["annotation_ids"]) == 43
    code, out, err = ready("import", labels, "--label-field", "building", "--label-map",
                           str(label_map), "--user", "ana")  # fmt: skip
    assert code == 0, err
    assert "created 0, already imported 43" in out


def test_unknown_labels_fail_with_one_line(ready: Run, shared_data: Path) -> None:
    code, out, err = ready("import", str(shared_data / "geotiff_labels.geojson"),
                           "--label-field", "building", "--user", "ana")  # fmt: skip
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "'yes'" in err and "--label-map" in err


def test_bad_paths_and_users(ready: Run, tmp_path: Path) -> None:
    small = tmp_path / "one.geojson"
    small.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    big = tmp_path / "big.geojson"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    fifo = tmp_path / "fifo.geojson"
    os.mkfifo(fifo)
    cases = [
        (("import", str(tmp_path), "--dry-run"), "not a regular file"),
        (("import", str(fifo), "--dry-run"), "not a regular file"),
        (("import", str(tmp_path / "nope.geojson"), "--dry-run"), "No such file"),
        (("import", str(big), "--dry-run"), "over the limit of 1 MB"),
        (("import", str(small)), "--user"),
        (("import", str(small), "--user", "vic"), "not an active analyst"),
        (("import", str(small), "--user", "nobody"), "nobody"),
        (("import", str(small), "--dry-run", "--label-map", str(tmp_path)), "not a regular file"),
        (("import", str(small), "--dry-run"), "holds no features"),
    ]
    for args, message in cases:
        code, out, err = ready(*args)
        assert code == 1, (args, out)
        assert message in err and err.count("\n") == 1, (args, err)


def test_import_then_export_a_coco_training_set(ready: Run, shared_data: Path, tmp_path: Path
                                                ) -> None:  # fmt: skip
    label_map = tmp_path / "map.json"
    label_map.write_text('{"yes": "structure"}')
    code, _, err = ready("import", str(shared_data / "geotiff_labels.geojson"), "--label-field",
                         "building", "--label-map", str(label_map), "--user", "ana")  # fmt: skip
    assert code == 0, err
    out = tmp_path / "coco"
    code, _, err = ready("export", "--format", "coco", "-o", str(out), "--chip-size", "256",
                         "--overlap", "32")  # fmt: skip
    assert code == 0, err
    document = json.loads((out / "annotations.json").read_text())
    assert {c["name"] for c in document["categories"]} == {"structure"}
    assert all(c["width"] == c["height"] == 256 for c in document["images"])
    assert len({a["attributes"]["annotation_id"] for a in document["annotations"]}) == 43
    assert any(a["attributes"]["truncated"] for a in document["annotations"])
    code, _, err = ready("export", "--format", "yolo", "-o", str(tmp_path / "y"),
                         "--chip-size", "20")  # fmt: skip
    assert code == 1 and "chip size" in err and not (tmp_path / "y").exists()
