"""`mkdocs build --strict` of a small fixture site and of the shipped content.

Each build runs the real `mkdocs` command in a temporary directory; the assertions read
the generated HTML, the JSON-LD, the feed and the navigation.
"""

from __future__ import annotations

import re
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Content
from cmskb.finder.explain import assumptions
from content_helpers import FIXTURE, ROOT, copy_fixture, copy_project, edit
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from product_fixtures import json_ld, mkdocs_build
from test_validators_feed_jsonld import visible_text

pytestmark = pytest.mark.slow


def build(project: Path, site: Path, content_dir: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the copied project `project` with `content_dir`."""
    return mkdocs_build(site, content_dir, config_file=project / "mkdocs.yml")


class NavLinks(HTMLParser):
    """Collects the hrefs of Material's primary navigation (`md-nav--primary`)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav" and (self.depth or "md-nav--primary" in (values.get("class") or "")):
            self.depth += 1
        elif tag == "a" and self.depth and values.get("href"):
            # Zensical writes "./faq/" where MkDocs writes "faq/": the same target
            self.links.append(re.sub(r"^(\./)+", "", values["href"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1


def nav_links(html: str) -> list[str]:
    parser = NavLinks()
    parser.feed(html)
    return parser.links


def price_rows(html: str) -> dict[str, list[str]]:
    """The value cells of the price table (inner HTML), keyed by plan code (row header)."""
    table = html.split('id="price-table"', 1)[1].split("</table>", 1)[0]
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        header = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if header:
            code = re.search(r'<a class="kb-plan-code" href="#plan-[a-z]">([A-Z])</a>', header[1])
            assert code, header[1]
            rows[code.group(1)] = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return rows


def _text(html: str) -> str:
    """The visible text of an HTML fragment, whitespace removed (permalink signs too)."""
    html = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", html, flags=re.S)
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def check_site(site: Path, content: Content) -> None:
    """Assertions shared by the fixture build and the shipped-content build."""
    pages = sorted(site.rglob("*.html"))
    assert pages
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        link = re.search(
            r'<link rel="alternate" type="application/rss\+xml" [^>]*href="([^"]+)"', head
        )
        assert link, page
        href = unescape(link.group(1))  # Zensical's `e` filter writes / as &#x2f;
        # relative to the page (root-relative on 404.html): it must reach the feed file
        target = site / href.lstrip("/") if href.startswith("/") else page.parent / href
        assert target.resolve() == (site / "feed.xml").resolve(), (page, href)

    # prices: tax-excluded × 1.10, rounded down, shown as 88,000円 in the table's cells
    rows = price_rows((site / "plans" / "index.html").read_text(encoding="utf-8"))
    assert list(rows) == [plan.code for plan in content.plans.plans]
    for plan in content.plans.plans:
        incl = plan.price_excl_tax * 110 // 100
        assert rows[plan.code][0] == f"<strong>{incl:,}円</strong>", plan.code
        assert rows[plan.code][1] == f"{plan.price_excl_tax:,}円", plan.code

    # question pages: FAQPage JSON-LD matching the page, kept out of the nav
    home_nav = nav_links((site / "index.html").read_text(encoding="utf-8"))
    assert "faq/" in home_nav
    for category in content.categories:
        assert f"faq/category/{category.id}/" in home_nav
        data = json_ld((site / "faq" / "category" / category.id / "index.html").read_text("utf-8"))
        assert data[0]["@type"] == "FAQPage"
        names = [e["name"] for e in data[0]["mainEntity"]]  # type: ignore[index]
        assert names == [q.question for q in content.questions_in(category.id)]
        # the answers as rendered on the question pages (no Markdown syntax left over)
        for entry in data[0]["mainEntity"]:  # type: ignore[index]
            qid = entry["url"].rstrip("/").rsplit("/", 1)[1]
            (page,) = json_ld((site / "faq" / qid / "index.html").read_text("utf-8"))
            expected = page["mainEntity"][0]["acceptedAnswer"]["text"]  # type: ignore[index]
            assert entry["acceptedAnswer"]["text"] == expected
    for question in content.published_questions:
        html = (site / "faq" / question.id / "index.html").read_text(encoding="utf-8")
        (data,) = json_ld(html)
        assert data["@context"] == "https://schema.org" and data["@type"] == "FAQPage"
        (entry,) = data["mainEntity"]  # type: ignore[misc]
        assert entry["@type"] == "Question" and entry["name"] == question.question
        assert entry["acceptedAnswer"]["@type"] == "Answer"
        # the answer as shown on the page, rendered from the content (not cut from the page),
        # with absolute links: JSON-LD is read away from the page
        answer = entry["acceptedAnswer"]["text"]
        shown = re.search(r"<!-- kb:answer -->(.*?)<!-- /kb:answer -->", html, re.S)
        assert shown and answer.strip() and _text(answer) == _text(shown.group(1)), question.id
        assert all(h.startswith("https://") for h in re.findall(r'href="([^"]*)"', answer))
        assert f'id="{question.id}"' in html
        links = nav_links(html)
        assert not [link for link in links if re.search(r"faq/[a-z0-9-]+/$", link)
                    and "category" not in link], links
        assert "../category/" + question.category + "/" in links
    for home_link in home_nav:
        assert not any(home_link == f"faq/{q.id}/" for q in content.questions)

    # feed: every news item, absolute links
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert [e.link for e in feed.entries] == [
        f"https://support.cmskit.example/news/{n.id}/"
        for n in sorted(content.news, key=lambda n: (n.date, n.id), reverse=True)
    ]
    for item in content.news:
        assert (site / "news" / item.id / "index.html").is_file()

    # the home page is titled with the site name alone
    home = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<title>\s*CMSKIT サポート\s*</title>", home), home.split("</title>")[0]

    # a Japanese 404 page
    not_found = (site / "404.html").read_text(encoding="utf-8")
    assert "ページが見つかりません" in not_found and '<html lang="ja"' in not_found


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("fixture-project"))
    site = project / "built"
    result = build(project, site, FIXTURE)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def test_fixture_site_builds_strictly(fixture_site: Path) -> None:
    check_site(fixture_site, load_content(FIXTURE))


def test_price_placeholders_are_replaced_in_pages(fixture_site: Path) -> None:
    html = (fixture_site / "faq" / "addon-ticket" / "index.html").read_text(encoding="utf-8")
    assert "追加チケットは1枚8,800円(税別8,000円)です" in html
    assert "{{" not in html
    assert 'href="../../plans/#plan-h"' in html


def test_shipped_content_builds_strictly(built_site: Path) -> None:
    # `built_site` (tests/product_fixtures.py) is the session's one strict build of content/;
    # it fails the test with mkdocs' output if that build does not succeed.
    content = load_content(ROOT / "content")
    check_site(built_site, content)
    assert len(content.published_questions) >= 40


def existing_site(tmp_path: Path) -> Path:
    """A site folder from an earlier build, with a page that must survive a failed build."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>earlier build</p>\n", encoding="utf-8")
    return site


def test_content_error_stops_the_build_before_writing(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    broken = copy_fixture(tmp_path)
    target = sorted((broken / "faq").glob("*/*.yml"))[0]
    lines = target.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "qestion_typo: これは未知のキーです")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    site = existing_site(tmp_path)
    result = build(project, site, broken)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    relative = target.relative_to(broken).as_posix()
    assert re.search(rf"{re.escape(relative)}:3\b", output), output
    assert "サイトは作られていません" in output
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_text(encoding="utf-8") == "<p>earlier build</p>\n"


@pytest.mark.parametrize(
    ("old", "new", "reported"),
    [
        # a link that --strict would reject after cleaning the site folder
        ("章に手順があります。", "章に[手順](/faq/nope/)があります。", "/faq/nope/"),
        # a price table the plan finder cannot take (found while rendering, before)
        ("validity_months: 12\n    minor_version_up: true\n    tickets: 8",
         "validity_months: 18\n    minor_version_up: true\n    tickets: 8", "validity_months"),
    ],
    ids=["broken-link", "finder-table"],
)
def test_late_errors_also_leave_an_existing_site_alone(
    tmp_path: Path, old: str, new: str, reported: str
) -> None:
    project = copy_project(tmp_path / "project")
    broken = copy_fixture(tmp_path)
    rel = "plans.yml" if "validity" in old else "faq/installation/install-steps.yml"
    edit(broken, rel, old, new)
    site = existing_site(tmp_path)
    result = build(project, site, broken)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"{rel}:" in output and reported in output, output
    assert (site / "index.html").read_text(encoding="utf-8") == "<p>earlier build</p>\n"
    assert not (site / "plans").exists()


def test_category_titles_are_escaped_in_the_navigation(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    content = copy_fixture(tmp_path)
    categories = content / "faq" / "categories.yml"
    text = categories.read_text(encoding="utf-8")
    title = re.search(r"title: (.+)", text)
    assert title
    hostile = "ユーザー<script>alert(4)</script>"
    categories.write_text(text.replace(title.group(0), f'title: "{hostile}"', 1), "utf-8")
    site = tmp_path / "site"
    result = build(project, site, content)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in site.rglob("*.html"):
        assert "<script>alert(4)" not in page.read_text(encoding="utf-8"), page
    home = (site / "index.html").read_text(encoding="utf-8")
    nav = home.split('md-nav--primary', 1)[1]
    assert "ユーザー&lt;script&gt;alert(4)&lt;/script&gt;" in nav


def page_text(site: Path, path: str) -> str:
    return visible_text((site / path / "index.html").read_text(encoding="utf-8"))


# Sentences of the support-service page (the seed) that the site must carry word for word.
SEED_SENTENCES = {
    "": ["そこまでやるか!CMSKIT サポート",
         "お客様の「困った!」を迅速に解決することがサポートチームのミッション。"
         "さらにご要望の実現が、お客様の満足につながると考えています。"],
    "support": ["導入型(無期限,年間)ライセンスをご購入のお客様は、"
                "有償サポートサービスもあわせてご利用ください。",
                "1案件毎に規定のサポートチケットが必要となります。"],
    "plans/tickets": ["1案件毎に規定のサポートチケットが必要となります。"],
    "plans": ["1案件毎に規定のサポートチケットが必要となります。"],
}


def test_shipped_site_carries_the_seed_sentences(built_site: Path) -> None:
    for path, sentences in SEED_SENTENCES.items():
        text = page_text(built_site, path)
        for sentence in sentences:
            assert sentence in text, (path, sentence)
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<h1[^>]*>そこまでやるか!CMSKIT サポート", home)


def test_no_news_item_of_the_shipped_site_is_without_a_source(built_site: Path) -> None:
    content = load_content(ROOT / "content")
    pages = sorted(p.parent.name for p in (built_site / "news").glob("*/index.html"))
    assert pages == sorted(item.id for item in content.news)
    for news_id in pages:
        html = (built_site / "news" / news_id / "index.html").read_text(encoding="utf-8")
        dateline = re.search(r'<p class="kb-dateline"([^>]*)>', html)
        assert dateline, news_id
        source = re.search(r'data-source="([a-z]+)"', dateline.group(1))
        assert source and source.group(1) in {"seed", "site", "generic"}, news_id


def test_shipped_plans_page_states_the_rules_of_the_finder(built_site: Path) -> None:
    content = load_content(ROOT / "content")
    html = (built_site / "plans" / "index.html").read_text(encoding="utf-8")
    rules = html.split('id="pf-rules"', 1)[1].split("</ul>", 1)[0]
    for sentence in assumptions(content.plans, content.site.products):
        assert f"<li>{sentence}</li>" in rules
