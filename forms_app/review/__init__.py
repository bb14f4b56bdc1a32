"""Reviewers' side: web view under /forms/review/ and the triage command line.

`init_app(app)` is called by `forms_app.create_app`; `cli` is added to the
`cmskit-forms` command group by `forms_app.cli`.
"""

from __future__ import annotations

import click
from flask import Flask

from forms_app.review import auth, commands, web


def init_app(app: Flask) -> None:
    """Register the review blueprint and its settings (defaults only fill what is unset)."""
    for key, value in auth.config_defaults().items():
        app.config.setdefault(key, value)
    web.register(app)


@click.group(name="review")
def cli() -> None:
    """Triage the request queue."""


commands.register(cli)
