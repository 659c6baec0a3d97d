"""The `annotator` command line.

Every command prints one clear line on stderr and exits non-zero on bad input, and
changes nothing when it fails. Each module adds its commands to `main`.
"""

from annotator.cli import catalogue, exchange, operations, people, serve
from annotator.cli.common import main

__all__ = ["catalogue", "exchange", "main", "operations", "people", "serve"]
