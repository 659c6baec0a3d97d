"""Reports: each benchmark renders its Markdown from a Jinja template in benchmarks/templates/
(`render`) and writes it into its own section of docs/benchmarks.md (`write_section`).

The templates get these helpers: `table(header, rows)` (a Markdown table), `verdict(met)`,
and the filters `ms` (2 decimals under 10, 1 above), `pct` (a share as a whole percentage) and
`mb` (KiB as MB); `ms_whole` rounds to whole milliseconds from 100."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "benchmarks" / "templates"


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(str(c) for c in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 or math.isnan(value) else f"{value:.2f}"


def ms_whole(value: float) -> str:
    """Milliseconds with 0, 1 or 2 decimals by size; "-" for NaN."""
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def pct(value: float) -> str:
    return f"{value:.0%}"


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    autoescape=False,  # Markdown, not HTML  # noqa: S701
)
_ENV.globals.update(table=table, verdict=verdict, nan=math.nan)
_ENV.filters.update(ms=ms, ms_whole=ms_whole, pct=pct, mb=mb)


def render(template: str, **context: Any) -> str:
    """The Markdown of `benchmarks/templates/<template>` with `context`."""
    return _ENV.get_template(template).render(**context)


DOC = ROOT / "docs" / "benchmarks.md"
DOC_TITLE = (
    "# Benchmarks\n\n"
    "Written by `make bench` (see `benchmarks/README.md`). Each benchmark rewrites only its own "
    "section, between its `begin`/`end` markers; re-run a benchmark rather than editing it.\n"
)


def _demoted(markdown: str) -> str:
    """Headings one level down (outside code fences), so a report nests under the title."""
    lines, fenced = [], False
    for line in markdown.strip("\n").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        lines.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Put one benchmark's report into docs/benchmarks.md, replacing its previous section and
    leaving every other benchmark's section as it was."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{_demoted(markdown)}\n{end}"
    text = doc.read_text() if doc.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        if not text.startswith("# Benchmarks"):
            text = DOC_TITLE  # an old single-report file: start the sectioned one afresh
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
