"""What a customer meets on the home, news and question pages (issue 12), as content: the
editors' `popular` questions (site.yml) and `important` news flag, checked with file, line
and field, and what the generated pages make of them; the "解決しない場合" block."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from click.testing import CliRunner
from cmskb.cli import main
from cmskb.content.loader import load_content
from cmskb.content.render import render_pages
from content_helpers import copy_fixture, edit, problems_of
from product_fixtures import ROOT

NEWS = "news/2026-09-maintenance.yml"
SITE_PRODUCTS = "products:\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def html_of(page: str) -> str:
    """A generated page as the site renders it (front matter stripped)."""
    body = page.split("---\n", 2)[2]
    return markdown.markdown(body, extensions=["attr_list", "md_in_html", "toc"])


def add_popular(root: Path, *ids: str) -> None:
    lines = "".join(f"  - {i}\n" for i in ids)
    edit(root, "site.yml", SITE_PRODUCTS, f"popular:\n{lines}{SITE_PRODUCTS}")


def line_of(root: Path, rel: str, text: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


# -- popular (site.yml) -------------------------------------------------------------------


def test_popular_questions_are_listed_on_home_in_the_editors_order(root: Path) -> None:
    add_popular(root, "ticket-expiry", "install-steps")
    content = load_content(root)
    assert content.site.popular == ("ticket-expiry", "install-steps")
    home = html_of(render_pages(content)["index.md"])
    section = re.search(r"<section ([^>]*)>(.*?)</section>", home, re.S)
    assert section, home
    assert 'class="kb-popular"' in section[1] and "data-kb-popular" in section[1]
    items = re.findall(r"<li><a href=\"([^\"]+)\">(.*?)</a></li>", section[2])
    by_id = {q.id: q.question for q in content.questions}
    assert items == [
        ("faq/ticket-expiry/index.md", by_id["ticket-expiry"]),
        ("faq/install-steps/index.md", by_id["install-steps"]),
    ]
    assert re.search(r"<h2 id=\"popular\">", section[2])
    assert "<ol>" in section[2]


def test_no_popular_questions_means_no_section(root: Path) -> None:
    home = html_of(render_pages(load_content(root))["index.md"])
    assert "data-kb-popular" not in home


def test_an_unknown_popular_id_names_file_line_and_field(root: Path) -> None:
    add_popular(root, "ticket-expiry", "tiket-expiry")
    [problem] = problems_of(root)
    assert (problem.file, problem.field) == ("site.yml", "popular[1]")
    assert problem.line == line_of(root, "site.yml", "- tiket-expiry")
    assert '"tiket-expiry" はどのカテゴリーにもありません' in problem.message
    assert '"ticket-expiry" の書き間違い' in problem.hint


def test_a_draft_cannot_be_a_popular_question(root: Path) -> None:
    add_popular(root, "spot-ticket-version-up")
    [problem] = problems_of(root)
    assert (problem.file, problem.field) == ("site.yml", "popular[0]")
    assert "下書き" in problem.message


@pytest.mark.parametrize(
    ("written", "field", "words"),
    [
        ("popular: ticket-expiry\n", "popular", "リスト"),
        ("popular:\n  - ticket-expiry\n  - ticket-expiry\n", "popular[1]", "2 回"),
        ("popular:\n  - Ticket_Expiry\n", "popular[0]", "URL に使える ID"),
    ],
)
def test_popular_must_be_a_list_of_distinct_ids(
    root: Path, written: str, field: str, words: str
) -> None:
    edit(root, "site.yml", SITE_PRODUCTS, written + SITE_PRODUCTS)
    problems = problems_of(root)
    assert [(p.file, p.field) for p in problems] == [("site.yml", field)], problems
    assert words in problems[0].message


def test_cmskb_check_prints_file_line_and_field_of_a_bad_popular_id(root: Path) -> None:
    add_popular(root, "no-such-question")
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1
    line = line_of(root, "site.yml", "- no-such-question")
    assert f"site.yml:{line}: popular[0]:" in result.output
    assert "no-such-question" in result.output


def test_shipped_popular_questions_are_published() -> None:
    content = load_content(ROOT / "content")
    published = {q.id for q in content.published_questions}
    assert 3 <= len(content.site.popular) <= 8
    assert set(content.site.popular) <= published


# -- important (news) ---------------------------------------------------------------------


def test_an_important_news_item_has_a_badge_on_home_index_and_its_page(root: Path) -> None:
    edit(root, NEWS, "source: ", "important: true\nsource: ")
    content = load_content(root)
    flagged = next(n for n in content.news if n.important)
    pages = render_pages(content)
    badge = '<strong class="kb-badge kb-badge--important">重要</strong>'
    home = html_of(pages["index.md"])
    item_line = next(li for li in re.findall(r"<li>.*?</li>", home) if flagged.id in li)
    assert badge in item_line
    index = html_of(pages["news/index.md"])
    part = index.split(f'id="{flagged.id}"', 1)[1].split("<h2", 1)[0]
    assert badge in part
    assert badge in html_of(pages[f"news/{flagged.id}/index.md"])
    others = [n for n in content.news if not n.important]
    assert others
    for item in others:
        assert badge not in html_of(pages[f"news/{item.id}/index.md"])


def test_news_are_not_important_unless_flagged(root: Path) -> None:
    assert not any(n.important for n in load_content(root).news)


def test_important_must_be_a_boolean(root: Path) -> None:
    edit(root, NEWS, "source: ", 'important: "はい"\nsource: ')
    [problem] = problems_of(root)
    assert (problem.file, problem.field) == (NEWS, "important")
    assert problem.line == line_of(root, NEWS, "important:")
    assert "真偽値" in problem.message


def test_a_shipped_news_item_is_important_only_when_its_title_says_so() -> None:
    for item in load_content(ROOT / "content").news:
        assert item.important == ("重要" in item.title), item.id


# -- home: search box and feed link, the news index's feed link -----------------------------


def test_home_has_a_search_form_that_works_without_scripts(root: Path) -> None:
    home = html_of(render_pages(load_content(root))["index.md"])
    form = re.search(r"<form ([^>]*)>(.*?)</form>", home, re.S)
    assert form, home
    assert 'action="faq/"' in form[1] and 'method="get"' in form[1]
    assert 'role="search"' in form[1] and "data-kb-home-search" in form[1]
    assert re.search(r'<input id="kb-home-search-query" type="search" name="q"', form[2])
    assert '<label for="kb-home-search-query">' in form[2]


def test_home_and_news_index_link_the_feed(root: Path) -> None:
    pages = render_pages(load_content(root))
    assert re.search(r'<a class="kb-feed-link" href="feed.xml">', html_of(pages["index.md"]))
    news = html_of(pages["news/index.md"])
    assert re.search(r'<a class="kb-feed-link" href="../feed.xml">', news)


# -- question pages: the vote hook and 解決しない場合 -----------------------------------------


def test_every_question_ends_with_the_vote_hook_then_not_solved(root: Path) -> None:
    content = load_content(root)
    pages = render_pages(content)
    forms = content.site.forms
    for question in content.published_questions:
        page = html_of(pages[f"faq/{question.id}/index.md"])
        hook = f'<div class="kb-vote" data-kb-vote="{question.id}"></div>'
        assert page.count(hook) == 1, question.id
        after = page.split(hook, 1)[1].lstrip()
        assert after.startswith('<section class="kb-not-solved">'), after[:80]
        block = after.split("</section>", 1)[0]
        assert '<h2 id="not-solved">解決しない場合</h2>' in block
        assert f'href="{forms.docs_request}"' in block
        assert f'href="{forms.feedback}"' in block
        assert 'href="../../support/index.md#paid"' in block
        assert 'href="../../plans/index.md"' in block
        # the free tier answers nobody in person: the block says so (seed, support.yml)
        assert "個別のご回答はしていません" in block
        # kept out of the search with the rest of the page's repeated parts
        excluded = page.split("data-search-exclude", 1)[1]
        assert hook in excluded


def test_not_solved_is_a_reserved_question_id(root: Path) -> None:
    (root / "faq/installation/install-steps.yml").rename(
        root / "faq/installation/not-solved.yml"
    )
    edit(root, "faq/installation/not-solved.yml", "id: install-steps", "id: not-solved")
    problems = problems_of(root)
    assert any(p.field == "id" and "予約" in p.message for p in problems), problems
