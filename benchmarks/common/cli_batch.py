"""`python -m benchmarks.common.cli_batch`: several of the app's commands in one interpreter.

A benchmark's set-up (`annotator init`, `users add`, `tokens create`, an image it does not
time) runs the app's own commands; each in its own process costs the app's import, seconds of
CPU, every time. This runs them one after the other in this one process, each through click's
`CliRunner` on the app's `main` (its arguments, its standard input, its output captured),
with the environment this process was started with. It reads the commands as JSON on standard
input, `[[args, stdin or null, tolerated or null], ...]`, stops at the first that fails (unless
its standard error holds its `tolerated` text, e.g. "exists already"), and prints
`[{"code": ..., "stdout": ..., "stderr": ...}, ...]`, one per command run.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from click.testing import CliRunner

from annotator.cli import main as annotator


def run(commands: list[tuple[list[str], str | None, str | None]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for args, stdin, tolerated in commands:
        result = CliRunner().invoke(annotator, args, input=stdin, prog_name="annotator")
        try:
            stderr = result.stderr
        except ValueError:  # click before 8.2 mixes it into the output
            stderr = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            info = result.exc_info
            stderr += "".join(traceback.format_exception(*info)) if info else repr(result.exception)
        code = result.exit_code
        if code != 0 and tolerated is not None and tolerated in stderr:
            code = 0
        results.append({"code": code, "stdout": result.stdout, "stderr": stderr})
        if code != 0:
            break
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.stdin.read()))))
