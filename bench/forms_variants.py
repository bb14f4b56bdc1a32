"""App factories for `bench/bench_forms.py --app`: the shipped app and variants of it.

Each factory returns the forms app with one measured choice undone, so one bench run can
compare them side by side (the figures are in bench/README.md).
"""

from __future__ import annotations

from flask import Flask

from forms_app import create_app


def shipped() -> Flask:
    """The app as deployed."""
    return create_app()


def stock_memory_storage() -> Flask:
    """``memory://`` served by limits' own MemoryStorage (a timer thread when idle)."""
    import forms_app.ratelimit

    forms_app.ratelimit.SCHEME = "memory"
    return create_app()


def stock_session() -> Flask:
    """Flask's own cookie session (a new serializer per request, zlib tried on each write)."""
    from flask.sessions import SecureCookieSessionInterface

    app = create_app()
    app.session_interface = SecureCookieSessionInterface()
    return app
