""""役に立ちましたか?" in a real browser, on the site of each builder served with the sidecar:
a vote, a change of mind kept across reloads, いいえ leading to the prefilled docs form, the
rate limit's Japanese message, no JavaScript (no widget, page fine), and the home page's
popular list replaced by the voted questions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Question
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Page, Route, expect
from product_fixtures import ROOT, Product, close_page, new_page, screenshot, start_server

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

THANKS = "ご回答ありがとうございました。"
RATE_LIMITED = "短い時間に回答が続いたため、記録できませんでした。"


@cache
def _questions() -> list[Question]:
    return list(load_content(ROOT / "content").published_questions)


def _question(n: int) -> Question:
    """A different question per test, so that votes of one test do not meet another's."""
    return _questions()[n]


def _widget(page: Page) -> tuple[object, object, object]:
    root = page.locator("[data-kb-vote]")
    return root, root.get_by_role("button", name="はい"), root.get_by_role("button", name="いいえ")


def _votes_of(product: Product, question_id: str) -> tuple[int, int]:
    result = product.forms_cli("review", "votes", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    for row in json.loads(result.stdout)["questions"]:
        if row["id"] == question_id:
            return row["yes"], row["no"]
    return 0, 0


def test_vote_and_change_of_mind_are_kept_across_reloads(page: Page, product: Product) -> None:
    question = _question(0)
    page.goto(f"/faq/{question.id}/")
    root = page.locator("[data-kb-vote]")
    yes = root.get_by_role("button", name="はい", exact=True)
    no = root.get_by_role("button", name="いいえ", exact=True)
    expect(root.get_by_text("役に立ちましたか?")).to_be_visible()
    expect(yes).to_have_attribute("aria-pressed", "false")
    yes.click()
    expect(root.get_by_role("status")).to_contain_text(THANKS)
    expect(yes).to_have_attribute("aria-pressed", "true")
    expect(root.get_by_role("link", name="FAQ・マニュアルへの記載要望")).to_be_hidden()
    page.reload()
    expect(yes).to_have_attribute("aria-pressed", "true")
    expect(root.get_by_role("status")).to_contain_text("「はい」と回答済みです。")
    no.click()
    expect(no).to_have_attribute("aria-pressed", "true")
    expect(yes).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(no).to_have_attribute("aria-pressed", "true")
    expect(root.get_by_role("status")).to_contain_text("「いいえ」と回答済みです。")
    screenshot(page, "vote-no-after-reload")
    # One browser, one vote: the change of mind replaced the first.
    assert _votes_of(product, question.id) == (0, 1)


def test_no_offers_the_docs_form_prefilled_with_the_page(page: Page) -> None:
    question = _question(1)
    page.goto(f"/faq/{question.id}/")
    root = page.locator("[data-kb-vote]")
    root.get_by_role("button", name="いいえ", exact=True).click()
    link = root.get_by_role("link", name="FAQ・マニュアルへの記載要望")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url("**/forms/docs-request/**")
    expect(page.get_by_label("対象ページのURL(任意)", exact=True)).to_have_value(
        f"/faq/{question.id}/"
    )


def test_without_javascript_there_is_no_widget(browser: Browser, product: Product) -> None:
    page = new_page(browser, product, java_script_enabled=False)
    try:
        question = _question(2)
        page.goto(f"/faq/{question.id}/")
        expect(page.locator("h1")).to_contain_text(question.question)
        root = page.locator("[data-kb-vote]")
        assert root.count() == 1
        assert root.inner_html() == ""
        assert root.bounding_box() is None or root.bounding_box()["height"] == 0  # type: ignore[index]
        expect(page.get_by_role("button", name="はい")).to_have_count(0)
    finally:
        close_page(page)


def _sidecar_with(site: Path, work: Path, setting: str, value: str) -> Iterator[Product]:
    """The same site served by a sidecar started with one setting changed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(f"CMSKIT_FORMS_{setting}", value)
        running = start_server(site, work)
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def limited_product(
    built_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Product]:
    """A sidecar that takes 2 votes a minute per client."""
    yield from _sidecar_with(
        built_site, tmp_path_factory.mktemp("limited"), "VOTE_RATE_LIMIT", "2 per minute"
    )


def test_rate_limit_is_said_in_japanese_and_the_vote_is_kept(
    browser: Browser, limited_product: Product
) -> None:
    page = new_page(browser, limited_product)
    try:
        question = _question(3)
        page.goto(f"/faq/{question.id}/")
        root = page.locator("[data-kb-vote]")
        yes = root.get_by_role("button", name="はい", exact=True)
        no = root.get_by_role("button", name="いいえ", exact=True)
        yes.click()
        expect(yes).to_have_attribute("aria-pressed", "true")
        no.click()
        expect(no).to_have_attribute("aria-pressed", "true")
        yes.click()
        expect(root.get_by_role("status")).to_contain_text(RATE_LIMITED)
        expect(no).to_have_attribute("aria-pressed", "true")  # what was recorded stays
        expect(yes).to_have_attribute("aria-pressed", "false")
        screenshot(page, "vote-rate-limited")
        page.reload()
        expect(no).to_have_attribute("aria-pressed", "true")
        assert _votes_of(limited_product, question.id) == (0, 1)
    finally:
        close_page(page)


# The home page's popular questions as plugins/cmskb/content/templates/home.md.j2 renders
# them (editor-picked); used when the built home page has no such section yet.
_POPULAR_SECTION = (
    '<section class="kb-popular" data-kb-popular><h2>よく見られているご質問</h2>'
    '<ol><li><a href="faq/">editor</a></li></ol></section>'
)


def test_home_lists_the_most_helpful_questions_once_voted(
    browser: Browser, product: Product
) -> None:
    question = _question(4)
    for _ in range(3):  # VOTE_POPULAR_MIN_YES: 3 browsers say はい
        voter = new_page(browser, product)
        try:
            voter.goto(f"/faq/{question.id}/")
            yes = voter.locator("[data-kb-vote]").get_by_role("button", name="はい", exact=True)
            yes.click()
            expect(yes).to_have_attribute("aria-pressed", "true")
        finally:
            close_page(voter)
    page = new_page(browser, product)
    try:
        def home(route: Route) -> None:
            response = route.fetch()
            html = response.text()
            if "data-kb-popular" not in html:
                html = html.replace("</article>", _POPULAR_SECTION + "</article>", 1)
            route.fulfill(response=response, body=html)

        page.route(product.url("/"), home)
        page.goto("/")
        section = page.locator("[data-kb-popular]")
        expect(section).to_have_attribute("data-kb-popular-source", "votes")
        link = section.locator("ol li a", has_text=question.question)
        expect(link).to_have_attribute("href", f"/faq/{question.id}/")
        link.click()
        page.wait_for_url(f"**/faq/{question.id}/")
    finally:
        close_page(page)


@pytest.fixture(scope="module")
def short_token_product(
    built_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Product]:
    """A sidecar whose CSRF tokens expire after 2 seconds."""
    yield from _sidecar_with(
        built_site, tmp_path_factory.mktemp("short-token"), "WTF_CSRF_TIME_LIMIT", "2"
    )


def test_a_page_left_open_past_its_token_still_votes(
    browser: Browser, short_token_product: Product
) -> None:
    """The script fetches a fresh token once when the one it holds has expired."""
    page = new_page(browser, short_token_product)
    try:
        question = _question(5)
        page.goto(f"/faq/{question.id}/")
        yes = page.locator("[data-kb-vote]").get_by_role("button", name="はい", exact=True)
        yes.wait_for()
        page.wait_for_timeout(3_000)
        posts: list[int] = []
        page.on("response", lambda r: posts.append(r.status) if r.request.method == "POST"
                else None)
        yes.click()
        expect(page.locator("[data-kb-vote]").get_by_role("status")).to_contain_text(THANKS)
        assert posts == [400, 200]  # the expired token refused, the fresh one taken
        assert _votes_of(short_token_product, question.id) == (1, 0)
    finally:
        close_page(page)
