"""The built site's machine-readable parts, read by others' parsers: the RSS feed with
`feedparser`, and the FAQPage JSON-LD of every question page against what a reader sees."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Content
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from product_fixtures import ROOT, json_ld

pytestmark = [pytest.mark.slow]


@cache
def content() -> Content:
    return load_content(ROOT / "content")


class _Text(HTMLParser):
    """Visible text of an HTML fragment (no scripts, styles or permalink signs)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style") or ("class", "headerlink") in attrs:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag in ("script", "style", "a"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def test_feed_parses_and_has_every_news_item(built_site: Path) -> None:
    feed = feedparser.parse((built_site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    news = content().news
    assert [e.title for e in feed.entries] == [item.title for item in news]
    for entry, item in zip(feed.entries, news, strict=True):
        assert entry.link.endswith(f"/news/{item.id}/"), entry.link
        assert entry.link.startswith("https://"), "feed links must be absolute"
        assert entry.published_parsed[:3] == item.date.timetuple()[:3]
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<link[^>]+rel="alternate"[^>]+application/rss\+xml', home)


def test_every_question_page_has_faqpage_json_ld_matching_what_is_shown(
    built_site: Path,
) -> None:
    questions = content().published_questions
    assert questions
    for question in questions:
        html = (built_site / "faq" / question.id / "index.html").read_text(encoding="utf-8")
        data = [d for d in json_ld(html) if d.get("@type") == "FAQPage"]
        assert len(data) == 1, f"{question.id}: expected one FAQPage, got {len(data)}"
        assert data[0]["@context"] == "https://schema.org"
        entities = data[0]["mainEntity"]
        assert isinstance(entities, list) and len(entities) == 1, question.id
        entity = entities[0]
        assert entity["@type"] == "Question"
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        assert h1, question.id
        assert entity["name"] == visible_text(h1.group(1)) == question.question
        answer = re.search(r"<!-- kb:answer -->(.*?)<!-- /kb:answer -->", html, re.S)
        assert answer, f"{question.id}: no visible answer block"
        shown = visible_text(answer.group(1))
        assert entity["acceptedAnswer"]["@type"] == "Answer"
        assert visible_text(entity["acceptedAnswer"]["text"]) == shown, question.id
        assert len(shown) > 10
        # The question's own address and the last-updated date the page shows.
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html)
        assert canonical and entity["url"] == data[0]["url"] == canonical.group(1), question.id
        updated = re.search(r'最終更新日: <time datetime="([0-9-]+)"', html)
        assert updated and entity["dateModified"] == updated.group(1), question.id


def test_category_pages_list_their_questions_in_json_ld(built_site: Path) -> None:
    for category in content().categories:
        path = built_site / "faq" / "category" / category.id / "index.html"
        data = [d for d in json_ld(path.read_text(encoding="utf-8")) if d["@type"] == "FAQPage"]
        assert len(data) == 1, category.id
        names = [entity["name"] for entity in data[0]["mainEntity"]]
        assert sorted(names) == sorted(q.question for q in content().questions_in(category.id))
