"""Every generated file of the site, for MkDocs and for any other builder.

`generate(content)` returns the Markdown pages (src_uri -> text) with the plan finder
placed on the plans page, and the static assets (site path -> text) of the finder and of
the search (its index is built over the built site, see `cmskb.search`). The MkDocs
plugin and `cmskb export` both call it, so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmskb.content.model import Content
from cmskb.content.render import render_pages
from cmskb.finder.page import finder_assets, finder_markup
from cmskb.finder.search import FinderTableError
from cmskb.search.site import browser_assets


class SiteFilesError(ValueError):
    """The content is valid but a generated part cannot be built (message for editors)."""


@dataclass(frozen=True, slots=True)
class SiteFiles:
    pages: dict[str, str]  # Markdown, keyed by src_uri
    assets: dict[str, str]  # static files, keyed by site-relative path


def generate(content: Content) -> SiteFiles:
    """Render every page (each once), the plan finder's and the search's assets."""
    try:
        markup = finder_markup(content)
        assets = finder_assets(content)
    except FinderTableError as exc:  # the loader checks the table shape: not expected
        raise SiteFilesError(f"plans.yml: プランファインダーを作れません: {exc}") from exc
    return SiteFiles(
        pages=render_pages(content, finder_markup=markup),
        assets={**assets, **browser_assets()},
    )
