"""The editors' guide in the built site of each builder: still served at /editors/ for the
people who edit content/, but out of the customers' navigation and footer links, the
sitemap, both search indexes and search engines (noindex)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import require_service
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from search_node import NODE, SearchEngine

EDITORS = "editors/index.html"
# The forms' frame (cmskb.frame): a page of the build that no reader is meant to reach.
FRAME = "site-frame/index.html"
# A link to the editors' guide from another page: MkDocs writes "editors/" or
# "../editors/", Zensical "./editors/" or escapes the slashes in some attributes.
_EDITORS_LINK = re.compile(r'href="(?:\.{1,2}(?:/|&#x2f;))*editors(?:/|&#x2f;)"')


def _pages(site: Path) -> list[Path]:
    return [p for p in sorted(site.rglob("*.html")) if "assets" not in p.parts]


def test_the_guide_is_served_and_tells_search_engines_not_to_index_it(built_site: Path) -> None:
    html = (built_site / EDITORS).read_text("utf-8")
    assert "<h1" in html and "編集ガイド" in html
    head = html.split("</head>", 1)[0]
    assert re.search(r'<meta name="robots" content="noindex">', head)


def test_no_other_page_links_to_the_guide(built_site: Path) -> None:
    """Navigation (tabs, drawer), the footer's previous/next links, page bodies."""
    linking = [
        p.relative_to(built_site).as_posix()
        for p in _pages(built_site)
        if p != built_site / EDITORS and _EDITORS_LINK.search(p.read_text("utf-8"))
    ]
    assert not linking
    # the page listed just before it in the old navigation: its footer names it no more
    support = (built_site / "support" / "index.html").read_text("utf-8")
    footer = support.split('class="md-footer"', 1)[1]
    assert "編集者ガイド" not in footer and "編集ガイド" not in footer
    assert "編集者ガイド" not in support
    # ...while the navigation still reaches the customers' pages
    assert 'href="../plans/' in support or 'href="..&#x2f;plans&#x2f;' in support


def test_only_the_guide_and_the_forms_frame_say_noindex(built_site: Path) -> None:
    noindex = [
        p.relative_to(built_site).as_posix()
        for p in _pages(built_site)
        if 'name="robots" content="noindex"' in p.read_text("utf-8")
    ]
    assert noindex == sorted([EDITORS, FRAME])


def test_the_sitemap_lists_every_page_but_the_guide(built_site: Path) -> None:
    sitemap = (built_site / "sitemap.xml").read_text("utf-8").replace("&#x2f;", "/")
    assert sitemap.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    paths = {urlsplit(loc).path for loc in re.findall(r"<loc>(.*?)</loc>", sitemap)}
    assert "/editors/" not in paths
    assert {"/", "/faq/", "/plans/", "/support/", "/news/", "/faq/support-id/"} <= paths
    pages = {
        "/" + p.relative_to(built_site).parent.as_posix().removeprefix(".") + "/"
        for p in _pages(built_site)
        if p.name == "index.html"
    }
    assert paths == {p.replace("//", "/") for p in pages} - {"/editors/", "/site-frame/"}
    packed = built_site / "sitemap.xml.gz"
    if packed.exists():  # MkDocs writes it beside the sitemap
        assert "editors" not in gzip.decompress(packed.read_bytes()).decode("utf-8")


def test_the_builders_own_search_files_leave_the_guide_out(built_site: Path) -> None:
    """Zensical writes its own search.json (its dialog is replaced by ours, but the file is
    public); the MkDocs build has no Material search plugin, only a stub index."""
    own = [p for p in (built_site / "search.json", built_site / "search" / "search_index.json")
           if p.exists()]
    for path in own:
        text = path.read_text("utf-8")
        assert "編集ガイド" not in text and "プレースホルダー" not in text, path


@pytest.mark.service
def test_the_site_search_does_not_find_the_guide(built_site: Path) -> None:
    require_service("node", NODE is not None, "Node.js runs the browser engine in these tests")
    engine = SearchEngine(built_site)
    try:
        guide = engine.search("編集ガイド プレースホルダー YAML")["pages"]
        other = engine.search("有償サポート")["pages"]
    finally:
        engine.close()
    assert not [p for p in guide if p.startswith("/editors/")]
    assert other
