"""The project's structure read from its own imports: the layers, the circles, the sizes.

`python -m tests.architecture` rewrites the picture in docs/architecture.md (a Mermaid graph of
the packages and the imports between them); tests/test_architecture.py checks the rules below
and that the committed picture is the one the code draws today.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("imagery", "annotations", "annotator", "benchmarks")
#: lower layers first: a package may import only packages before it in this list
LAYERS = ("imagery", "annotations", "annotator", "benchmarks")
#: packages that must never import the web framework
NO_FLASK = ("imagery", "annotations")
#: modules allowed to import project modules inside functions, and why
LAZY_IMPORTS = {
    "annotator.cli": "the command line (every module of the package) imports a command's "
    "modules when it runs, so "
    "`annotator --help` and quick commands start fast",
    "annotator": "the package hands out create_app (from annotator.app) when first asked for, "
    "so importing any of its modules (every command does) does not load the whole web app",
}
DOC = ROOT / "docs" / "architecture.md"


def may_import_lazily(module: str) -> bool:
    """Whether `module` may import inside functions: it is named in LAZY_IMPORTS, or it is a
    module of the command line's package (annotator.cli), which the table names for all."""
    return module in LAZY_IMPORTS or module.startswith("annotator.cli.")


BEGIN, END = "<!-- picture: begin -->", "<!-- picture: end -->"


@dataclass(frozen=True)
class Import:
    source: str  # module doing the import
    target: str  # module imported (resolved to a module of the tree when it is one)
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and path.parent.name == "versions":
                continue  # Alembic revisions are data Alembic loads, not modules of the layers
            found[module_name(path)] = path
    return found


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield child, inside
        yield from _walk(child, inside)


def imports(known: dict[str, Path]) -> list[Import]:
    """Every import of every module, resolved to the most precise module of the tree."""
    found: list[Import] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, in_function in _walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    targets.append(submodule if submodule in known else node.module)
            for target in targets:
                found.append(Import(name, target, getattr(node, "lineno", 0), in_function))
    return found


def top(name: str) -> str:
    return name.split(".", 1)[0]


def circles(known: dict[str, Path], edges: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), imports in functions too."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.target in known and edge.target != edge.source:
            graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(known):
        if node not in index:
            visit(node)
    return groups


#: modules that put the whole together (they import every part), drawn in boxes of their own
#: above the parts, so that the parts' own arrows show
ENTRY_POINTS = {
    "annotator": "annotator.app",
    "annotator.cli": "annotator.app",
    "annotator.wsgi": "annotator.app",
    "annotations.models": "annotations.models",
    "annotations.schema": "annotations.models",
    "annotations.migrations": "annotations.models",
    "annotations.migrations.env": "annotations.models",
}


def group_of(name: str) -> str:
    """The box a module is drawn in: its package, or its subpackage one level down."""
    if name in ENTRY_POINTS:
        return ENTRY_POINTS[name]
    if name.startswith("annotator.cli."):
        return ENTRY_POINTS["annotator.cli"]
    parts = name.split(".")
    if len(parts) >= 3 or (len(parts) == 2 and (ROOT / parts[0] / parts[1]).is_dir()):
        return ".".join(parts[:2])
    return parts[0]


def picture(known: dict[str, Path], edges: list[Import]) -> str:
    """A Mermaid graph: a frame per package, a box per subpackage (with its number of modules),
    an arrow from a box to each box of the same package whose modules it imports, and one
    arrow from a package to each package it imports."""
    counts: Counter[str] = Counter(group_of(name) for name in known)
    arrows: set[tuple[str, str]] = set()
    for edge in edges:
        if edge.target not in known:
            continue
        source, target = group_of(edge.source), group_of(edge.target)
        if top(source) != top(target):
            source, target = f"{top(source)}_layer", f"{top(target)}_layer"
        if source != target:
            arrows.add((source, target))
    ids = {box: re.sub(r"\W", "_", box) for box in counts}
    lines = ["```mermaid", "flowchart BT"]
    for package in PACKAGES:
        lines.append(f"  subgraph {package}_layer[{package}]")
        for box in sorted(b for b in counts if top(b) == package):
            lines.append(f'    {ids[box]}["{box}<br/>{counts[box]} modules"]')
        lines.append("  end")
    for source, target in sorted(arrows):
        lines.append(f"  {ids.get(source, source)} --> {ids.get(target, target)}")
    lines.append("```")
    return "\n".join(lines)


def drawn() -> str:
    known = modules()
    return picture(known, imports(known))


def write_picture() -> None:
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + drawn() + "\n" + text[end:])


if __name__ == "__main__":
    write_picture()
    print(f"wrote the picture in {DOC.relative_to(ROOT)}")
