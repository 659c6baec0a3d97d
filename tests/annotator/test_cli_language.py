"""The command line in Arabic (issue 16): ANNOTATOR_LANGUAGE, else the gettext environment
(LANG=ar_SY.UTF-8 …), else English; the commands' and options' help and click's own words
(Usage:, Options:, its usage errors) come from the catalogue."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from annotator.cli import main
from annotator.cli.language import chosen, in_language, translated

#: what stays Latin in Arabic help: the commands' names, formats and software's names
COMMANDS = {"annotator", "images", "import", "backup", "demo", "export", "init", "keys"}
COMMANDS |= {"publish", "restore", "serve", "sites", "tokens", "users", "verify", "worker", "add"}
KEPT = COMMANDS | {"GeoTIFF", "COG", "JPEG", "NITF", "http", "https", "s3", "bucket"}
KEPT |= {"key", "AWS_", "ISO", "TIFF", "RPC", "ANNOTATOR_DEM", "WGS", "GeoJSON", "GeoPackage"}
KEPT |= {"Shapefile", "Ed25519", "REPORT", "BUNDLE", "PNG", "SVG", "sha256", "PATH", "gunicorn"}
KEPT |= {"Ctrl", "C", "tar", "float"}  # click's name of the option's type, as in the metavar FLOAT
CLEAN = {"LANG": None, "LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None}


def english_left(text: str) -> list[str]:
    """Latin words of the text but option names (--site), metavars (TEXT, PATHS...) and the
    kept names."""
    text = re.sub(r"--[\w-]+|\[[A-Z]+\]|\b[A-Z]{2,}\b(\.\.\.)?", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_]*", text)
    return sorted(set(words) - KEPT)


def run(*args: str, **env: str | None) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), env={**CLEAN, **env}, prog_name="annotator")


@pytest.mark.parametrize(
    "env",
    [{"ANNOTATOR_LANGUAGE": "ar"}, {"LANG": "ar_SY.UTF-8"}, {"LANGUAGE": "fr:ar", "LANG": "C"}],
)
def test_main_help_is_arabic(env: dict[str, str]) -> None:
    result = run("--help", **env)
    assert result.exit_code == 0
    assert result.stdout.startswith("الاستخدام: annotator [OPTIONS] COMMAND [ARGS]...")
    assert "الخيارات:" in result.stdout and "الأوامر:" in result.stdout
    assert "عرض هذه الرسالة ثم الخروج." in result.stdout
    assert english_left(result.stdout) == []


def test_images_import_help_is_arabic() -> None:
    result = run("images", "import", "--help", ANNOTATOR_LANGUAGE="ar")
    assert result.exit_code == 0
    assert "إلحاق الصورة بهذا الموقع" in result.stdout  # --site's help
    assert english_left(result.stdout) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["images", "import", "--bogus"], "لا يوجد خيار باسم '--bogus'."),
        (["images", "import"], "وسيط ناقص 'PATHS...'."),
        (["sites", "add", "x", "--lon", "east"], "قيمة غير صالحة لـ '--lon'"),
        (["nothing"], "لا يوجد أمر باسم 'nothing'."),
    ],
)
def test_usage_errors_are_arabic(args: list[str], words: str) -> None:
    result = run(*args, LANG="ar_SY.UTF-8")
    assert result.exit_code == 2
    assert words in result.stderr and "خطأ:" in result.stderr
    assert english_left(result.stderr.replace("'east'", "").replace("'nothing'", "")) == []


def test_english_stays_the_default() -> None:
    for env in ({}, {"LANG": "de_DE.UTF-8"}, {"ANNOTATOR_LANGUAGE": "en", "LANG": "ar_SY.UTF-8"}):
        result = run("images", "import", "--help", **env)
        assert result.exit_code == 0
        assert result.stdout.startswith("Usage: annotator images import [OPTIONS] PATHS...")
        assert "Attach to this site (repeatable)." in result.stdout
        assert not re.search("[\u0600-\u06ff]", result.stdout)
        error = run("images", "import", "--bogus", **env)
        assert "Error: No such option '--bogus'." in error.stderr


def test_a_language_it_does_not_have_is_refused_in_one_line() -> None:
    result = run("--help", ANNOTATOR_LANGUAGE="klingon")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: ANNOTATOR_LANGUAGE='klingon' is not a language of the interface (one of: en, ar)"
    ]
    assert result.stdout == ""


def test_the_run_leaves_gettext_as_it_found_it() -> None:
    before = os.environ.get("LANGUAGE")
    run("--help", ANNOTATOR_LANGUAGE="ar")
    assert os.environ.get("LANGUAGE") == before
    assert chosen({"LC_ALL": "ar_EG.UTF-8", "LANG": "en_GB.UTF-8"}) == "ar"
    assert chosen({"LANGUAGE": "de", "LANG": "ar_SY.UTF-8"}) == "en"  # the first one set decides


def commands(group: click.Group, ctx: click.Context) -> Iterator[click.Command]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield command
        if isinstance(command, click.Group):
            yield from commands(command, ctx)


def test_every_help_of_every_command_is_translated() -> None:
    """Each command's and group's help and each option's help has its Arabic (so a help
    added without a translation fails here)."""
    ctx = click.Context(main)
    found = list(commands(main, ctx))
    assert len(found) > 20
    untranslated = []
    with in_language("ar"):
        for command in [main, *found]:
            english = [command._english_help]  # type: ignore[attr-defined]
            english += [getattr(p, "help", None) for p in command.params]
            for text in filter(None, english):
                if not re.search("[\u0600-\u06ff]", translated(text) or ""):
                    untranslated.append(f"{command.name}: {text}")
    assert untranslated == []
