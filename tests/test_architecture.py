"""The layout holds: layers import only downward, no circles, no dodging, no huge rooms."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests import architecture as arch

KNOWN = arch.modules()
EDGES = arch.imports(KNOWN)
CHECKED = ("imagery", "annotations", "annotator")
MAX_MODULE_LINES = 800
MAX_MODULES_PER_FOLDER = 20
MAX_FMT_SKIPS = 20


def test_the_tree_was_read() -> None:
    assert "annotations.annotation" in KNOWN
    assert "annotator.api.annotations" in KNOWN
    assert any(e.source == "annotator.app" and e.target == "annotator.services" for e in EDGES)


def test_each_layer_imports_only_layers_below_it() -> None:
    upward = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in EDGES
        if arch.top(e.target) in arch.LAYERS
        and arch.LAYERS.index(arch.top(e.target)) > arch.LAYERS.index(arch.top(e.source))
    ]
    assert upward == []


@pytest.mark.parametrize("package", arch.NO_FLASK)
def test_no_web_framework_below_the_app(package: str) -> None:
    found = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in EDGES
        if arch.top(e.source) == package and arch.top(e.target) == "flask"
    ]
    assert found == []


def test_no_import_circles() -> None:
    assert arch.circles(KNOWN, EDGES) == []


def test_a_circle_would_be_found() -> None:
    """The circle finder itself: two modules importing each other make one circle."""
    fake = {"a.x": Path("x"), "a.y": Path("y"), "a.z": Path("z")}
    edges = [
        arch.Import("a.x", "a.y", 1, False),
        arch.Import("a.y", "a.x", 1, True),
        arch.Import("a.y", "a.z", 2, False),
    ]
    assert arch.circles(fake, edges) == [["a.x", "a.y"]]


def test_project_imports_inside_functions_only_where_allowed() -> None:
    lazy = [
        f"{e.source}:{e.line} imports {e.target} inside a function"
        for e in EDGES
        if e.in_function
        and arch.top(e.source) in CHECKED
        and arch.top(e.target) in arch.PACKAGES
        and not arch.may_import_lazily(e.source)
    ]
    assert lazy == []


def test_no_module_is_too_long() -> None:
    long = {
        name: n
        for name, path in KNOWN.items()
        if arch.top(name) in CHECKED
        and (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_folder_is_a_long_flat_list() -> None:
    folders = Counter(path.parent for name, path in KNOWN.items() if arch.top(name) in CHECKED)
    crowded = {str(folder): n for folder, n in folders.items() if n > MAX_MODULES_PER_FOLDER}
    assert crowded == {}


def test_the_formatter_lays_out_the_code() -> None:
    skips = sum(
        len(re.findall(r"#\s*fmt:\s*(?:skip|off)", path.read_text()))
        for name, path in KNOWN.items()
        if arch.top(name) in CHECKED
    )
    assert skips < MAX_FMT_SKIPS


def test_the_architecture_picture_is_current() -> None:
    text = arch.DOC.read_text()
    start, end = text.index(arch.BEGIN) + len(arch.BEGIN), text.index(arch.END)
    assert text[start:end].strip() == arch.drawn().strip(), "run: python -m tests.architecture"
