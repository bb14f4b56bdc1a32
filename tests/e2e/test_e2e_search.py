"""The site search in a real browser: Japanese queries as customers type them find the page.

Queries go through Material's own header search box, as a reader types them (see
tests/search_browser.py). The query set (tests/search_queries.yml) is shared with
bench/bench_search.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Page, Request, expect
from product_fixtures import Product, close_page, new_page, screenshot
from search_browser import (
    IDLE,
    META,
    NONE,
    RESULT_LINKS,
    load_cases,
    open_search,
    result_pages,
    run_search,
    wait_for_answer,
)

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

REQUIRED_SHARE = 0.95


@pytest.fixture(scope="module")
def search_page(browser: Browser, product: Product) -> Iterator[Page]:
    """One page for every query, as a reader who searches again and again."""
    page = new_page(browser, product)
    page.goto("/")
    yield page
    close_page(page)


def test_the_query_set_covers_every_kind_with_sixty_queries_or_more() -> None:
    cases = load_cases()
    kinds = {kind for kind, _, _ in cases}
    assert len(cases) >= 60
    assert {"compound", "variants", "full_width", "colloquial", "kana", "partial"} <= kinds
    assert len({query for _, query, _ in cases}) == len(cases)


def test_customer_queries_find_the_right_page_in_the_top_three(
    search_page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = load_cases()
    misses: list[str] = []
    for kind, query, expected in cases:
        found = run_search(search_page, query)
        if expected not in found[:3]:
            misses.append(f"  [{kind}] {query!r}: want {expected}, got {found[:3]}")
    share = 1 - len(misses) / len(cases)
    report = f"search: {len(cases) - len(misses)}/{len(cases)} in the top 3 ({share:.1%})"
    with capsys.disabled():
        print("\n" + report + ("\nmisses:\n" + "\n".join(misses) if misses else ""))
    assert share >= REQUIRED_SHARE, report + "\n" + "\n".join(misses)


def test_results_use_materials_markup_and_highlight_the_terms(page: Page) -> None:
    page.goto("/")
    found = run_search(page, "パスワードを忘れた")
    assert found[0] == "/faq/password-reset/"
    first = page.locator(RESULT_LINKS).first
    expect(first.locator("article.md-search-result__article")).to_have_count(1)
    expect(first.locator("mark").first).to_contain_text("パスワード")
    screenshot(page, "search-results")
    highlight = parse_qs(urlsplit(first.get_attribute("href") or "").query).get("h", [""])[0]
    assert "パスワード" in highlight
    first.click()
    page.wait_for_url("**/faq/password-reset/**")
    assert "パスワードを忘れた" in page.locator("h1").inner_text()
    expect(page.locator("article mark[data-md-highlight]").first).to_contain_text("パスワード")


def test_slash_opens_the_search_and_arrows_and_enter_choose_a_result(page: Page) -> None:
    page.goto("/faq/")
    page.keyboard.press("/")
    box = page.locator("input.md-search__input")
    expect(box).to_be_focused()
    box.fill("スポットチケット")
    box.press("End")
    wait_for_answer(page)
    first = page.locator(RESULT_LINKS).first
    expect(first).to_have_attribute("href", re.compile("/faq/spot-ticket/"))  # what one sees
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/faq/spot-ticket/**")


def test_nothing_found_says_so_in_japanese_and_offers_the_faq_and_the_forms(page: Page) -> None:
    page.goto("/")
    assert run_search(page, "ｘｙｚｚｙ存在しない語句") == []
    expect(page.locator(META)).to_have_text(NONE)
    help_box = page.locator(".kb-search-help")
    expect(help_box).to_be_visible()
    hrefs = help_box.locator("a").evaluate_all("links => links.map(a => a.pathname)")
    assert hrefs == ["/faq/", "/forms/docs-request/", "/forms/feedback/"]
    screenshot(page, "search-nothing-found")
    run_search(page, "スポットチケット")
    expect(help_box).to_be_hidden()


@pytest.mark.parametrize("particle", ["を", "い", "が"])
def test_a_particle_alone_matches_nothing(search_page: Page, particle: str) -> None:
    assert run_search(search_page, particle) == []


def test_the_editors_guide_is_kept_out_of_the_search(search_page: Page) -> None:
    found = run_search(search_page, "編集ガイド プレースホルダー")
    assert not [p for p in found if p.startswith("/editors/")], found


def test_ime_composition_searches_once_the_word_is_chosen(page: Page) -> None:
    page.goto("/")
    open_search(page)
    # the search is ready (Material reads the box once when its worker says so)
    expect(page.locator(META)).to_contain_text(IDLE)
    session = page.context.new_cdp_session(page)
    queries: list[str] = []

    def record(value: str) -> None:
        queries.append(value)

    page.expose_function("kbQuery", record)
    # What the worker is asked: seen at Material's keyup, where it reads the box.
    page.evaluate(
        "document.querySelector('input.md-search__input').addEventListener('keyup',"
        " e => window.kbQuery(e.target.value))"
    )
    for text in ("ぱ", "ぱす", "ぱすわ", "ぱすわーど"):
        # an IME sends the key (code 229, "Process") and updates its composition
        session.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text),
                                                 "selectionEnd": len(text)})
        session.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Process",
                                                "windowsVirtualKeyCode": 229})
    expect(page.locator(META)).to_contain_text(IDLE)
    session.send("Input.insertText", {"text": "パスワード"})
    wait_for_answer(page)
    assert "/faq/password-reset/" in result_pages(page)[:3]
    assert queries == ["パスワード"], queries


def test_the_forms_pages_search_box_opens_the_site_search(page: Page, product: Product) -> None:
    # The form pages wear the site's frame (forms_app.frame): the same header search.
    page.goto("/forms/feedback/")
    assert "/faq/approval-flow/" in run_search(page, "承認フロー")[:3]


def test_a_query_fetches_only_the_index_parts_it_needs(browser: Browser, product: Product) -> None:
    page = new_page(browser, product)
    requests: list[str] = []

    def seen(request: Request) -> None:
        if "/search/" in request.url:
            requests.append(urlsplit(request.url).path)

    page.on("request", seen)
    page.goto("/")
    run_search(page, "チケットの有効期限")
    manifest = page.evaluate("fetch('/search/kb/manifest.json').then(r => r.json())")
    close_page(page)
    shards = [r for r in requests if "/t/" in r]
    assert shards, requests
    assert len(set(shards)) < manifest["shards"], "every shard was fetched"
    assert all(r.startswith("/search/kb/") or r == "/search/search_index.json" for r in requests)
