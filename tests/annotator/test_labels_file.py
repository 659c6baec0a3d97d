"""A deployment's bad labels.json stops the app with one clear line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotations.labels.taxonomy import TaxonomyError
from annotator.cli import main
from tests.conftest import make_app


def bad_labels(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "labels.json"
    entries = [
        {"id": "ship.tug", "name": "Tug", "colour": "blue"},
        {"id": "ship", "attributes": {"knots": {"type": "number", "min": 5, "max": 1}}},
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_the_cli_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    path = bad_labels(tmp_path / "data")
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(main, ["init"], env=env)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"Error: invalid label taxonomy: {path}: entry 1 (ship.tug): colour 'blue' must be "
        f"'#rrggbb' hex; {path}: entry 2 (ship): attribute 'knots': min 5 is above max 1"
    ]
    assert "Traceback" not in result.output


def test_the_app_does_not_start_on_a_bad_file(tmp_path: Path) -> None:
    bad_labels(tmp_path / "instance")
    with pytest.raises(TaxonomyError) as raised:
        make_app(tmp_path)
    assert len(raised.value.details["problems"]) == 2
    assert "\n" not in raised.value.message
