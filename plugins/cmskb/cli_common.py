"""Pieces shared by the `cmskb` commands: the content folder's type and loading it.

Kept apart from `cmskb.cli`, which imports the subcommands that use these.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from .content.loader import load_content
from .content.model import Content
from .content.problems import ContentError, Problem

CONTENT_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def content_option(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command's ``--content`` option (the content folder, default ``content``)."""
    return click.option(
        "--content",
        "content_dir",
        type=CONTENT_DIR,
        default="content",
        show_default=True,
        help=help_text,
    )


def load_or_exit(content_dir: Path, report: Callable[[list[Problem]], None]) -> Content:
    """The content of `content_dir`; when it has problems, `report` them and exit with 1."""
    try:
        return load_content(content_dir)
    except ContentError as exc:
        report(exc.problems)
        sys.exit(1)


def echo_problems(problems: list[Problem], prefix: str, *, err: bool = False) -> None:
    """Print each problem (``path:line: field: message``), paths under `prefix`."""
    for problem in problems:
        click.echo(problem.format(prefix), err=err)
