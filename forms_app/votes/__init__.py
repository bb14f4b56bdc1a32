""""役に立ちましたか?" votes on the question pages, under ``/forms/votes/``.

- `views`: the blueprint: a browser's vote and a CSRF token (GET, never cached), casting or
  changing a vote (POST, JSON), the most helpful questions (``popular.json``, cached briefly);
- `store`: the votes table: one row per browser and question, counts, rankings, export
  rows and retention;
- `questions`: which question ids exist (published questions of the content folder) and
  their titles;
- `voter`: the browser's random voter id in a signed, HttpOnly cookie.

The question pages are static and cacheable: nothing on them is per browser. Their script
(docs/javascripts/kb-votes.js) asks this blueprint for the browser's vote and a token.
"""

from __future__ import annotations

from flask import Flask

from forms_app.votes import views


def init_app(app: Flask) -> None:
    """Register the votes blueprint and its rate limits."""
    views.init_app(app)
