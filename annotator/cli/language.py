"""The command line in the reader's language (issue 16): ANNOTATOR_LANGUAGE, else the
usual gettext environment (the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set:
`LANG=ar_SY.UTF-8 annotator --help`), else English.

Click writes its own words (Usage:, Options:, its usage errors) through `gettext.gettext`,
the default gettext domain. For the run of a command, `in_language` binds that domain to
annotator/translations and names the chosen language in LANGUAGE, so that click's words and
ours, the commands' and options' help translated when the help is written (`Translated`),
come from the one catalogue the pages use. `make messages` finds the help through
annotator.language.extract and click's words in CLICK_WORDS below. The commands' own
one-line refusals stay in English (after click's translated "Error:").
"""

from __future__ import annotations

import contextlib
import gettext
import inspect
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import click

#: the interface's languages (as annotator.language.choice.LANGUAGES, without Flask)
LANGUAGES = ("en", "ar")
DOMAIN = "messages"  # gettext's default domain, the one click's `gettext.gettext` reads
GETTEXT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
HELP = "Show this message and exit."  # click's help option's help (its msgid)


def _code(name: str) -> str:
    """ar_SY.UTF-8@latin -> ar"""
    return name.strip().split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()


def chosen(environ: Mapping[str, str]) -> str:
    """The command line's language; ValueError for an ANNOTATOR_LANGUAGE it does not have."""
    named = environ.get("ANNOTATOR_LANGUAGE", "").strip()
    if named:
        if _code(named) not in LANGUAGES:
            raise ValueError(
                f"ANNOTATOR_LANGUAGE={named!r} is not a language of the interface "
                f"(one of: {', '.join(LANGUAGES)})"
            )
        return _code(named)
    for variable in GETTEXT_VARIABLES:  # as gettext reads them: the first one set decides
        value = environ.get(variable, "")
        if value:
            for name in value.split(":"):
                if _code(name) in LANGUAGES:
                    return _code(name)
            break
    return "en"


@contextlib.contextmanager
def in_language(language: str) -> Iterator[None]:
    """gettext's default domain reads annotator/translations in `language` until the end."""
    from annotator.language.catalogues import FOLDER, compile_stale

    if language != "en":
        compile_stale(FOLDER)  # messages.mo is not kept in git: made when missing or old
    before_folder = gettext.bindtextdomain(DOMAIN)
    before = os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, str(FOLDER))
    os.environ["LANGUAGE"] = language
    try:
        yield
    finally:
        gettext.bindtextdomain(DOMAIN, before_folder)
        if before is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = before


def translated(text: str | None) -> str | None:
    """Help text (a docstring or an option's help) in the run's language."""
    if not text:
        return text
    english = inspect.cleandoc(text).partition("\f")[0]
    return gettext.gettext(english)


class Translated(click.Command):
    """A command whose help, and its options' help, are translated when they are written."""

    @property
    def help(self) -> str | None:
        return translated(self._english_help)

    @help.setter
    def help(self, value: str | None) -> None:
        self._english_help = value

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:  # click keeps it, made in the first run's language: English
            option.help = HELP  # here, translated in format_options as any option's help
        return option

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or isinstance(param, click.Argument):
                continue
            spec, text = record
            english = getattr(param, "help", None)
            if english and text.startswith(english):  # the help, then click's own [default: …]
                text = f"{translated(english)}{text[len(english) :]}"
            rows.append((spec, text))
        if rows:
            with formatter.section(gettext.gettext("Options")):
                formatter.write_dl(rows)


class Command(Translated):
    pass


class Group(click.Group, Translated):
    """The `annotator` group: its commands and groups translate their help, and a run of it
    reads the language first (an ANNOTATOR_LANGUAGE it does not have: one line, exit 2)."""

    command_class = Command
    group_class = type  # subgroups are Groups too

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            language = chosen(os.environ)
        except ValueError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        with in_language(language):
            return super().main(*args, **kwargs)


def _(text: str) -> str:
    """Marks a string for `make messages` (pybabel's `_` keyword); click translates it."""
    return text


def ngettext(singular: str, plural: str, n: int = 1) -> tuple[str, str]:
    """Marks a plural for `make messages`."""
    return singular, plural


#: click's own words as click 8 writes them (its msgids), for the catalogue
CLICK_WORDS = (
    _("Usage:"),
    _("Options"),
    _("Commands"),
    _("Positional arguments"),
    _("Show this message and exit."),
    _("Error: {message}"),
    _("Try '{command} {option}' for help."),
    _("Aborted!"),
    _("default: {default}"),
    _("required"),
    _("env var: {var}"),
    _("(dynamic)"),
    _("deprecated"),
    _("Missing command."),
    _("Missing argument"),
    _("Missing option"),
    _("Missing parameter"),
    _("Missing {param_type}"),
    _("Missing parameter: {param_name}"),
    _("No such option {name!r}."),
    _("No such command {name!r}."),
    _("Invalid value: {message}"),
    _("Invalid value for {param_hint}: {message}"),
    _("Option {name!r} does not take a value."),
    _("Could not open file {filename!r}: {message}"),
    _("unknown error"),
    _("{value!r} is not a valid {number_type}."),
    _("{value} is not in the range {range}."),
    _("file"),
    _("directory"),
    _("path"),
    _("{name} {filename!r} does not exist."),
    _("{name} {filename!r} is a file."),
    _("{name} {filename!r} is a directory."),
    _("{name} {filename!r} is not readable."),
    _("{name} {filename!r} is not writable."),
    _("Do you want to continue?"),
    _("Confirm the action without prompting."),
    _("Repeat for confirmation"),
    _("Error: The two entered values do not match."),
    _("Error: invalid input"),
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    ngettext(
        "Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."
    ),
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
)
