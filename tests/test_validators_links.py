"""LinkChecker crawls the served product from `/`: every internal link and every `#anchor`
resolves, the form pages under /forms/ included.

It crawls the same WSGI app `cmskit-serve` runs (static site + forms sidecar), served in a
thread on a free port. LinkChecker throttles itself to about three requests a second per host
unless the server answers with a ``LinkChecker`` header, which only this test server adds.
A copy of the built site gets one extra page with a broken link and a broken anchor, so the
test also proves that the checker reports both.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cmskb.frame import ERRORS_DIR, FRAME_DIR
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from werkzeug.serving import make_server

from forms_app import create_app
from forms_app.storage.db import dispose_all
from site_server.cli import build_wsgi_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

pytestmark = [pytest.mark.slow]

LINKCHECKER = Path(sys.executable).with_name("linkchecker")
CANARY = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>canary</title>
</head><body><a href="/faq/">ok</a> <a href="/no-such-page/">broken page</a>
<a href="/faq/#no-such-anchor">broken anchor</a></body></html>"""
CONFIG = """[checking]
threads=4
maxrequestspersecond=1000
[filtering]
# the feed and sitemap carry absolute URLs of the public host, not of this test server
ignore=
  ^https?://(?!127\\.0\\.0\\.1)
[AnchorCheck]
"""


def _with_linkchecker_header(app: WSGIApplication) -> WSGIApplication:
    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
            return start_response(status, [*headers, ("LinkChecker", "allowed")], exc_info)  # type: ignore[arg-type]

        return app(environ, start)  # type: ignore[arg-type]

    return wrapped


@pytest.fixture(scope="module")
def crawl(
    built_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, str]]]:
    work = tmp_path_factory.mktemp("links")
    site = work / "site"
    shutil.copytree(built_site, site)
    (site / "canary.html").write_text(CANARY, encoding="utf-8")
    url = f"sqlite:///{work / 'queue.sqlite3'}"
    forms = create_app(
        {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "links", "SUPPORT_ID_PEPPER": "p",
         "SITE_DIR": str(site)}  # the forms' pages in this build's frame, crawled too
    )
    server = make_server(
        "127.0.0.1", 0, _with_linkchecker_header(build_wsgi_app(site, forms)), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (work / "linkcheckerrc").write_text(CONFIG, encoding="utf-8")
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        result = subprocess.run(
            [
                str(LINKCHECKER), "-f", str(work / "linkcheckerrc"), "--no-status", "--verbose",
                "-o", "csv", f"{base}/", f"{base}/canary.html",
                # linked from no page (for editors only): its own links are checked too
                f"{base}/editors/",
            ],
            capture_output=True, text=True, timeout=600, check=False, cwd=work,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        dispose_all()
    lines = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";"))
    assert rows, f"LinkChecker printed no result:\n{result.stdout}\n{result.stderr}"
    yield [{**row, "url": row["url"].removeprefix(base)} for row in rows]


def _broken(rows: list[dict[str, str]]) -> list[str]:
    return [
        f"{row['url']} (from {row['parentname']}): {row['result']} {row['warningstring']}".strip()
        for row in rows
        if row["valid"] != "True" or "anchor" in row["warningstring"].lower()
    ]


def test_checker_reports_a_broken_link_and_a_broken_anchor(crawl: list[dict[str, str]]) -> None:
    from_canary = [b for b in _broken(crawl) if "canary.html" in b]
    assert any("/no-such-page/" in b for b in from_canary), from_canary
    assert any("no-such-anchor" in b for b in from_canary), from_canary


def test_every_internal_link_and_anchor_resolves(
    crawl: list[dict[str, str]], built_site: Path
) -> None:
    checked = {row["url"].split("#")[0] for row in crawl}
    pages = {
        "/" + p.relative_to(built_site).as_posix().removesuffix("index.html")
        for p in built_site.rglob("*.html")
        if p.name != "404.html"
        # Linked from nowhere on purpose (cmskb.frame): the forms' frame and nginx's error
        # pages; their links are the frame's, crawled on every form page.
        and p.relative_to(built_site).parts[0] not in (FRAME_DIR, ERRORS_DIR)
    }
    missed = sorted(pages - checked)
    assert not missed, f"pages the crawl never reached: {missed}"
    assert {"/forms/feedback/", "/forms/docs-request/", "/forms/status/"} <= checked
    broken = [b for b in _broken(crawl) if "canary.html" not in b]
    assert not broken, "\n".join(broken)
