"""A reader's journeys through the served site in a real browser, with screenshots.

Expectations come from the shipped content (loaded with the site's own content loader), so
the tests follow the content when editors change it, and from the seed's price table.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Content, Question
from cmskb.finder.search import Need, find_options
from content_helpers import SEED_PRICES
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Locator, Page, expect
from product_fixtures import ROOT, Product, close_page, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

# Every tax-included price of the seed's table (税別 x 1.10, codes A-I).
SEED_PRICES_INCL_TAX = [f"{row[-1] * 110 // 100:,}円" for row in SEED_PRICES.values()]


@cache
def content() -> Content:
    return load_content(ROOT / "content")


def _question_with_related() -> Question:
    for category in content().categories:
        for question in content().questions_in(category.id):
            if question.related:
                return question
    raise AssertionError("no shipped question has related questions")


def _main(page: Page) -> Locator:
    return page.locator("article.md-content__inner")


def _heading(locator: Locator) -> str:
    """A heading's text without Material's permalink sign."""
    return locator.inner_text().replace("¶", "").strip()


def expect_h1(page: Page, text: str) -> None:
    expect(page.locator("h1")).to_have_count(1)
    assert _heading(page.locator("h1")) == text


def test_home_to_category_to_question_to_related_question(page: Page) -> None:
    question = _question_with_related()
    category = next(c for c in content().categories if c.id == question.category)
    by_id = {q.id: q for q in content().published_questions}
    related = by_id[question.related[0]]

    page.goto("/")
    expect(page).to_have_title(re.compile("CMSKIT"))
    screenshot(page, "home")
    _main(page).get_by_role("link", name=category.title, exact=True).first.click()
    page.wait_for_url(f"**/faq/category/{category.id}/")
    expect_h1(page, category.title)
    screenshot(page, "faq-category")

    _main(page).get_by_role("link", name=question.question, exact=True).click()
    page.wait_for_url(f"**/faq/{question.id}/")
    expect_h1(page, question.question)
    breadcrumbs = page.get_by_role("navigation", name="パンくずリスト")
    expect(breadcrumbs.get_by_role("link", name=category.title)).to_be_visible()
    screenshot(page, "faq-question")

    _main(page).get_by_role("link", name=related.question, exact=True).first.click()
    page.wait_for_url(f"**/faq/{related.id}/")
    expect_h1(page, related.question)


def test_faq_index_lists_every_category(page: Page) -> None:
    page.goto("/faq/")
    for category in content().categories:
        expect(_main(page).get_by_role("link", name=category.title, exact=True)).to_be_visible()
    screenshot(page, "faq")


def test_news_list_to_item(page: Page) -> None:
    news = content().news
    page.goto("/")
    page.get_by_role("link", name="お知らせ", exact=True).first.click()
    page.wait_for_url("**/news/")
    screenshot(page, "news")
    headings = [_heading(h) for h in _main(page).locator("h2").all()]
    titles = [item.title for item in news]
    assert headings[: len(titles)] == titles, "news must be newest first"
    newest = news[0]
    _main(page).locator(f"a[href='{newest.id}/']").first.click()
    page.wait_for_url(f"**/news/{newest.id}/")
    expect_h1(page, newest.title)
    expect(_main(page).locator(f"time[datetime='{newest.date.isoformat()}']")).to_be_visible()
    screenshot(page, "news-item")


def test_plans_page_shows_every_tax_included_price(page: Page) -> None:
    page.goto("/plans/")
    table = _main(page).locator("table").first
    expect(table).to_be_visible()
    text = table.inner_text()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(SEED_PRICES_INCL_TAX))
    for price in SEED_PRICES_INCL_TAX:
        assert price in text, f"{price} missing from the price table"
    plans = content().plans
    for n, plan in enumerate(plans.plans):
        cells = rows.nth(n).locator("td").all_inner_texts()
        assert f"{plans.price_incl_tax(plan):,}円" in cells, (plan.code, cells)
        assert f"{plan.price_excl_tax:,}円" in cells, (plan.code, cells)
    screenshot(page, "plans")


def _total(text: str) -> int:
    match = re.search(r"合計\s*([\d,]+)円", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_plan_finder_answers_like_the_python_finder(page: Page) -> None:
    page.goto("/plans/")
    product = content().site.product("onprem-perpetual")
    page.locator("#pf-product").select_option(product.id)
    page.locator("#pf-vu-yes").check()
    page.locator("#pf-contract-yes").check()
    page.locator("#pf-years").select_option("3")
    page.locator("#pf-first-year").fill("20")
    page.locator("#pf-later-years").fill("5")
    page.locator("#pf-submit").click()
    status = page.locator("#pf-status")
    expect(status).to_contain_text("いちばん安い組み合わせは")
    need = Need(product=product, version_ups=True, years=3, first_year=20, later_years=5)
    answer = find_options(content().plans, need)
    assert answer.options, answer.reason
    assert _total(status.inner_text()) == answer.options[0].total_incl
    shown = page.locator("#pf-result .kb-finder__option h3")
    expect(shown).to_have_count(len(answer.options))
    for heading, option in zip(shown.all(), answer.options, strict=True):
        assert _total(heading.inner_text()) == option.total_incl
    expect(page.locator("#pf-rules")).to_contain_text("サポート契約は同時に1つだけ持ち")
    screenshot(page, "plans-finder-answer")


def test_plan_finder_says_plainly_when_nothing_fits(page: Page) -> None:
    page.goto("/plans/")
    page.locator("#pf-product").select_option("onprem-perpetual")
    page.locator("#pf-vu-yes").check()
    page.locator("#pf-contract-no").check()
    page.locator("#pf-submit").click()
    expect(page.locator("#pf-status")).to_contain_text("条件に合う組み合わせはありません")


def test_plan_finder_rejects_an_out_of_range_count(page: Page) -> None:
    page.goto("/plans/")
    page.locator("#pf-first-year").fill("999")
    page.locator("#pf-submit").click()
    expect(page.locator("#pf-status")).to_contain_text("整数で入力してください")
    expect(page.locator("#pf-first-year")).to_have_attribute("aria-invalid", "true")


def _background(page: Page) -> tuple[int, ...]:
    color = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(v) for v in re.findall(r"\d+", color)[:3])


def test_dark_mode_toggle_switches_and_is_remembered(page: Page) -> None:
    page.emulate_media(color_scheme="light")
    page.goto("/faq/")
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    assert sum(_background(page)) > 600, "light mode should have a light background"
    page.get_by_role("button", name="ダークモードに切り替える").or_(
        page.locator("label[title='ダークモードに切り替える']")
    ).first.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.wait_for_function(
        "getComputedStyle(document.body).backgroundColor !== 'rgb(255, 255, 255)'"
    )
    assert sum(_background(page)) < 200, "dark mode should have a dark background"
    screenshot(page, "faq-dark")
    page.goto("/plans/")
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    page.locator("label[title='ライトモードに切り替える']").first.click()
    expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "default")


def test_narrow_mobile_viewport(browser: Browser, product: Product) -> None:
    page = new_page(browser, product, width=375, height=740, is_mobile=True, has_touch=True)
    try:
        question = _question_with_related()
        for path in ("/", f"/faq/{question.id}/", "/plans/", "/news/"):
            page.goto(path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
        page.goto("/")
        screenshot(page, "home-mobile")
        page.locator("label.md-header__button[for='__drawer']").click()
        drawer_link = page.locator("nav.md-nav--primary a.md-nav__link[href$='faq/']").first
        expect(drawer_link).to_be_visible()
        screenshot(page, "home-mobile-menu")
        drawer_link.click()
        page.wait_for_url("**/faq/")
        expect_h1(page, "よくあるご質問")
    finally:
        close_page(page)
