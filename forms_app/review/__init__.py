"""Reviewers' side: web view under /forms/review/ and the triage command line.

`init_app(app)` is called by `forms_app.create_app`; `cli` is added to the
`cmskit-forms` command group by `forms_app.cli`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask

from forms_app import notify
from forms_app.config import ConfigError
from forms_app.review import auth, commands, web
from forms_app.timeutil import DEFAULT_TIMEZONE


def init_app(app: Flask) -> None:
    """Register the review blueprint and its settings (defaults only fill what is unset).

    Raises ConfigError, naming the setting, when the notification settings or the time zone
    are wrong: a typo there would otherwise turn reviewers' notifications off without a word,
    or break every page that shows a time.
    """
    for key, value in auth.config_defaults().items():
        app.config.setdefault(key, value)
    try:
        notify.init_app(app)  # checks the settings once and keeps them
    except notify.NotifyConfigError as err:
        raise ConfigError(f"forms sidecar refuses to start: {err}") from err
    try:
        ZoneInfo(str(app.config.get("TIMEZONE", DEFAULT_TIMEZONE)))  # as views.py reads it
    except (ValueError, ZoneInfoNotFoundError) as err:
        raise ConfigError(
            "forms sidecar refuses to start: CMSKIT_FORMS_TIMEZONE must be a time zone name "
            f"such as Asia/Tokyo, not {app.config.get('TIMEZONE')!r}"
        ) from err
    web.register(app)


@click.group(name="review")
def cli() -> None:
    """Triage the request queue."""


commands.register(cli)
