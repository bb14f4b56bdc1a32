"""The sidecar's error pages (400, 404, 413, 429, 503) rendered in a built site's frame.

A served product cannot be made to answer every error on demand (a rate limit would stop
the other tests, a 503 needs its queue database down), so these pages come from the real
app (`create_app`, test client) with `SITE_DIR` pointed at the built site, a rate limit of
one lookup a minute and a PostgreSQL address where nothing listens. The browser tests serve
them at their own paths of the product (assets from the product), the validators check
them as files. nginx's own pages are files of the built site (``errors/*.html``).
"""

from __future__ import annotations

from pathlib import Path

from cmskb.frame import ERRORS_DIR, STATIC_ERROR_PAGES
from forms_helpers import feedback_data, make_app

# name: (path under /forms, expected status)
ERROR_STATES = {
    "error-400": ("/status/?receipt=%FF", 400),
    "error-404": ("/no-such-page/", 404),
    "error-413": ("/feedback/", 413),
    "error-429": ("/status/?receipt=K7QM-3XAD-9PRT", 429),
    "error-503": ("/status/?receipt=K7QM-3XAD-9PRT", 503),
}
# nginx's pages, as the built site holds them: name -> site path
STATIC_ERRORS = {
    f"static-{page.file.removesuffix('.html')}": f"/{ERRORS_DIR}/{page.file}"
    for page in STATIC_ERROR_PAGES
}
_DOWN = "postgresql+psycopg://cmskit@127.0.0.1:9/nothing?connect_timeout=2"


def error_pages(site_dir: Path, work: Path) -> dict[str, tuple[str, str]]:
    """name -> (path under /forms, HTML) of each error state, in `site_dir`'s frame."""
    app = make_app(work / "up", SITE_DIR=str(site_dir), STATUS_RATE_LIMIT="1 per minute")
    client = app.test_client()
    pages: dict[str, tuple[str, str]] = {}
    for name in ("error-400", "error-404"):
        path, status = ERROR_STATES[name]
        response = client.get(path)
        assert response.status_code == status, (name, response.status_code)
        pages[name] = (path, response.get_data(as_text=True))
    path, status = ERROR_STATES["error-413"]
    big = feedback_data("X", description="あ" * 200_000)
    response = client.post(path, data=big)
    assert response.status_code == status, response.status_code
    pages["error-413"] = (path, response.get_data(as_text=True))
    path, status = ERROR_STATES["error-429"]
    client.get(path)
    response = client.get(path)
    assert response.status_code == status, response.status_code
    pages["error-429"] = (path, response.get_data(as_text=True))
    down = make_app(work / "down", SITE_DIR=str(site_dir), DATABASE_URL=_DOWN).test_client()
    path, status = ERROR_STATES["error-503"]
    response = down.get(path)
    assert response.status_code == status, response.status_code
    pages["error-503"] = (path, response.get_data(as_text=True))
    return pages
