"""`make messages`' extractor for the command line (babel.cfg names it for annotator/cli):
what pybabel's Python extractor finds (`_()`, `ngettext()`), and the help a person reads in
`annotator … --help`, as annotator.cli.language translates it: each click command's or
group's docstring (cleaned as click cleans it, up to a form feed) and each `help="…"`."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

Found = tuple[Any, ...]  # (line, keyword or None, message(s), comments), as babel reads them


def _is_command(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in ("command", "group")


def click_help(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Found]:
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(map(_is_command, node.decorator_list)):
            doc = ast.get_docstring(node, clean=False)
            if doc and node.body:
                text = inspect.cleandoc(doc).partition("\f")[0]
                yield node.body[0].lineno, None, text, []
        elif isinstance(node, ast.keyword) and node.arg == "help":
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                yield value.lineno, None, inspect.cleandoc(value.value), []
