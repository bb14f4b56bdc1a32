"""Index a built site folder, whatever built it, and the browser files the search needs.

`index_site(site_dir, settings)` reads every page of the built site (``**/index.html``
and other ``.html`` files, except the 404 page) and writes the index beside them;
`cmskb search-index` and the MkDocs plugin both call it. `browser_assets()` gives the
worker and the engine, and the request forms' suggestion script and style (which ask the
same worker), which the site generator adds to every build (MkDocs or export).
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from cmskb.content.model import SearchSettings
from cmskb.frame import ERRORS_DIR, FRAME_DIR

from .extract import PageText, page_text
from .index import INDEX_DIR, IndexStats, build_index

ASSET_DIR = "assets/javascripts"
ENGINE_FILE = "kb-search-engine.js"
WORKER_FILE = "kb-search-worker.js"
# The request forms' suggestions while typing (served by the site for the forms sidecar):
# they ask the same worker and index.
SUGGEST_FILES = {
    "kb-suggest.js": f"{ASSET_DIR}/kb-suggest.js",
    "kb-suggest.css": "assets/stylesheets/kb-suggest.css",
}
# Not pages to find: assets, the index itself, the frame and the static error pages.
_SKIPPED_TOP = frozenset({INDEX_DIR, "assets", FRAME_DIR, ERRORS_DIR})


def index_site(site_dir: Path, settings: SearchSettings) -> IndexStats:
    """Build the search index of the site in `site_dir` (already built)."""
    return build_index(
        _pages(Path(site_dir), settings.exclude), Path(site_dir), synonyms=settings.synonyms
    )


def _pages(site_dir: Path, exclude: tuple[str, ...]) -> Iterator[PageText]:
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir)
        if relative.parts[0] in _SKIPPED_TOP or relative.as_posix() == "404.html":
            continue
        url = page_url(relative.as_posix())
        if any(fnmatch.fnmatchcase("/" + url, pattern) for pattern in exclude):
            continue
        text = page_text(url, path.read_bytes())
        if text is not None:
            yield text


def page_url(relative: str) -> str:
    """Site-relative URL of a built file: ``faq/x/index.html`` -> ``faq/x/``."""
    if relative == "index.html":
        return ""
    if relative.endswith("/index.html"):
        return relative[: -len("index.html")]
    return relative


@cache
def browser_assets() -> dict[str, str]:
    """The worker and engine scripts and the forms' suggestion files, keyed by their path
    in the site."""
    folder = resources.files("cmskb.search") / "assets"
    files = {f"{ASSET_DIR}/{name}": name for name in (ENGINE_FILE, WORKER_FILE)}
    files.update({path: name for name, path in SUGGEST_FILES.items()})
    return {path: (folder / name).read_text(encoding="utf-8") for path, name in files.items()}


@cache
def worker_url() -> str:
    """Site-relative URL of the worker, versioned by the scripts' content."""
    scripts = browser_assets()
    text = "".join(scripts[f"{ASSET_DIR}/{name}"] for name in (ENGINE_FILE, WORKER_FILE))
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{ASSET_DIR}/{WORKER_FILE}?v={digest}"
