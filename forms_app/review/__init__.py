"""Reviewers' side: web view under /forms/review/ and the triage command line.

`init_app(app)` is called by `forms_app.create_app`; `cli` is added to the
`cmskit-forms` command group by `forms_app.cli`.
"""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review blueprint (filled in by the review-side work)."""


@click.group(name="review")
def cli() -> None:
    """Triage the request queue."""
