"""The MkDocs build and the Zensical build of the shipped content, page by page.

Same set of page URLs, same title on every page, same main text of every question page
(whitespace normalised); the differences that remain are listed in deploy/zensical.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from cmskb.search.site import page_url
from conftest import CONTENT

pytestmark = [pytest.mark.slow]

# Only in one build, by design: Zensical writes its own (unused, near-empty) search index.
_BUILDER_FILES = {"search.json"}


def _pages(site: Path) -> dict[str, Path]:
    return {
        "/" + page_url(p.relative_to(site).as_posix()): p
        for p in site.rglob("*.html")
        if p.relative_to(site).parts[0] not in ("assets", "search")
    }


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return " ".join(found.group(1).split())


def _main_text(html: str) -> str:
    """The article's text: tags, scripts and permalink signs out, whitespace normalised."""
    article = html.split('<article class="md-content__inner md-typeset">', 1)[1]
    article = article.split("</article>", 1)[0]
    article = re.sub(r"<(script|style)\b.*?</\1>", " ", article, flags=re.S)
    article = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", article, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", article)
    return " ".join(text.split())


def test_both_builds_have_the_same_pages_titles_and_question_texts(
    mkdocs_site: Path, zensical_site: Path
) -> None:
    mkdocs_pages, zensical_pages = _pages(mkdocs_site), _pages(zensical_site)
    assert set(mkdocs_pages) == set(zensical_pages)
    assert len(mkdocs_pages) > 80
    for url, path in mkdocs_pages.items():
        mkdocs_html = path.read_text(encoding="utf-8")
        zensical_html = zensical_pages[url].read_text(encoding="utf-8")
        assert _title(mkdocs_html) == _title(zensical_html), url
    questions = load_content(CONTENT).published_questions
    assert questions
    for question in questions:
        url = f"/faq/{question.id}/"
        mkdocs_text = _main_text(mkdocs_pages[url].read_text(encoding="utf-8"))
        zensical_text = _main_text(zensical_pages[url].read_text(encoding="utf-8"))
        assert mkdocs_text == zensical_text, url
        assert question.question in mkdocs_text


def test_both_builds_ship_the_same_files_besides_the_themes(
    mkdocs_site: Path, zensical_site: Path
) -> None:
    def files(site: Path) -> set[str]:
        return {
            p.relative_to(site).as_posix()
            for p in site.rglob("*")
            if p.is_file() and p.relative_to(site).parts[0] not in ("assets", "search")
            and not p.name.endswith(".gz")
        }

    only_mkdocs = files(mkdocs_site) - files(zensical_site)
    only_zensical = files(zensical_site) - files(mkdocs_site) - _BUILDER_FILES
    assert not only_mkdocs and not only_zensical, (only_mkdocs, only_zensical)
    for name in ("feed.xml", "search/kb/manifest.json", "assets/plan-finder.json"):
        assert (mkdocs_site / name).is_file() and (zensical_site / name).is_file(), name
    assert (mkdocs_site / "feed.xml").read_bytes() == (zensical_site / "feed.xml").read_bytes()
