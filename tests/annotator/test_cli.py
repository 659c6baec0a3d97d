"""The `annotator` command line, run as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotations.schema import head
from annotator.cli import main


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., tuple[int, str, str]]:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), env=env, input=stdin)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_init_is_idempotent(run: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    code, out, _ = run("init")
    assert code == 0 and f"schema {head()}" in out
    code, out, _ = run("init")
    assert code == 0
    assert (tmp_path / "data" / "annotator.db").exists()


def test_import_list_and_sites(
    run: Callable[..., tuple[int, str, str]], shared_data: Path, tmp_path: Path
) -> None:
    run("init")
    code, out, err = run("sites", "add", "Atlanta", "--lon", "-84.479", "--lat", "33.638",
                         "--radius-m", "800", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["slug"] == "atlanta"
    code, out, err = run(
        "images", "import", str(shared_data / "sample_geotiff.tif"),
        "--captured", "2016-05-01T16:00:00Z", "--provider", "SpaceNet", "--sensor", "WV3",
        "--licence", "CC BY-SA 4.0", "--attribution", "SpaceNet / CosmiQ Works", "--json",
    )  # fmt: skip
    assert code == 0, err
    imported = json.loads(out)
    assert imported[0]["created"] is True
    assert imported[0]["sites"] == ["atlanta"]
    assert imported[0]["captured_at"] == "2016-05-01T16:00:00Z"
    code, out, _ = run("images", "import", str(shared_data / "sample_geotiff.tif"), "--json")
    assert code == 0 and json.loads(out)[0]["created"] is False
    code, out, _ = run("images", "list", "--json")
    listed = json.loads(out)
    assert len(listed) == 1 and listed[0]["provider"] == "SpaceNet"
    assert listed[0]["gsd_m"] == pytest.approx(0.5)
    code, out, _ = run("sites", "list", "--json")
    assert json.loads(out)[0]["image_ids"] == [listed[0]["id"]]


def test_bad_input_is_one_line_nonzero_and_changes_nothing(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path, shared_data: Path
) -> None:
    run("init")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"<html>nope</html>")
    cases = [
        ("images", "import", str(shared_data / "RGB.byte.tif"), str(junk)),
        ("images", "import", str(tmp_path / "missing.tif")),
        ("images", "import", str(shared_data / "RGB.byte.tif"), "--captured", "yesterday"),
        ("images", "import", str(shared_data / "RGB.byte.tif"), "--site", "atlantis"),
        ("sites", "add", "Nowhere", "--lon", "200", "--lat", "0"),
        ("sites", "add", "Nowhere"),
        ("users", "add", "bob", "--role", "analyst", "--password-stdin"),
    ]
    for args in cases:
        code, out, err = run(*args, stdin="short\n")
        assert code != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:"), (args, err)
        assert "Traceback" not in err
    code, out, _ = run("images", "list", "--json")
    assert json.loads(out) == []
    assert list((tmp_path / "data" / "images").iterdir()) == []


def test_users_and_tokens(run: Callable[..., tuple[int, str, str]]) -> None:
    run("init")
    code, out, err = run("users", "add", "ana", "--role", "analyst", "--password-stdin",
                         stdin="a long password\n")  # fmt: skip
    assert code == 0, err
    code, out, _ = run("tokens", "create", "ana")
    assert code == 0 and out.strip().startswith("ann_")
    code, _, err = run("tokens", "create", "nobody")
    assert code != 0 and "no user" in err
    code, _, err = run("users", "add", "ana", "--role", "viewer", "--password-stdin",
                       stdin="another long one\n")  # fmt: skip
    assert code != 0 and "exists" in err


def test_console_script_is_installed(tmp_path: Path) -> None:
    """The real entry point, as `make run` calls it."""
    script = Path(sys.executable).parent / "annotator"
    assert script.exists()
    result = subprocess.run(
        [str(script), "images", "import", str(tmp_path / "none.tif")],
        capture_output=True, text=True, env={"ANNOTATOR_DATA_DIR": str(tmp_path / "d"),
                                             "PATH": "/usr/bin:/bin"}, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {tmp_path / 'none.tif'}: no such file"
