"""The command line every benchmark shares: `python -m benchmarks.<subject> [--smoke]
[--out DIR] [--doc FILE]`.

`--smoke` runs the benchmark through every step with tiny counts, in a few seconds to a
minute, so that `make test` notices a benchmark that no longer runs; its figures mean nothing
and it asserts nothing about speed. It writes to a temporary folder and report unless told
otherwise, never to docs/.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common.report import DOC, ROOT

OUT = ROOT / "benchmarks" / "out"


@dataclass(frozen=True)
class Options:
    smoke: bool
    #: the benchmark's working folder (data, logs, raw results)
    out: Path
    #: docs/benchmarks.md, or the file the smoke mode writes its section to
    doc: Path


@dataclass(frozen=True)
class Workplace:
    """Where a benchmark run works: its folder, the app's data folder in it, and the logs."""

    options: Options

    @property
    def out(self) -> Path:
        return self.options.out

    @property
    def data_dir(self) -> Path:
        return self.out / "instance"

    @property
    def logs(self) -> Path:
        return self.out / "logs"


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny counts, to check that it runs (figures mean nothing)",
    )
    parser.add_argument("--out", type=Path, help="working folder (default benchmarks/out/...)")
    parser.add_argument("--doc", type=Path, help="the report to write its section to")
    return parser


def options(args: argparse.Namespace, subject: str, default_out: Path | None = None) -> Options:
    """The options from parsed arguments: a smoke run works in a fresh temporary folder."""
    smoke = bool(args.smoke)
    if args.out is not None:
        out = Path(args.out).resolve()
    elif smoke:
        out = Path(tempfile.mkdtemp(prefix=f"bench-smoke-{subject}-"))
    else:
        out = default_out or OUT / subject
    doc = (
        Path(args.doc).resolve() if args.doc is not None else (out / "report.md" if smoke else DOC)
    )
    out.mkdir(parents=True, exist_ok=True)
    return Options(smoke=smoke, out=out, doc=doc)


def parse(
    description: str,
    subject: str,
    argv: Sequence[str] | None = None,
    default_out: Path | None = None,
) -> Options:
    return options(parser(description).parse_args(argv), subject, default_out)
