"""What a customer meets (issue 12), in Chromium on both builds: tables readable at every
width (no cell clipped, hidden or out of reach; the price table a table on a desktop and one
card per plan on a phone), the home page's search box, popular questions and feed link, and
the way forward at the end of a question (解決しない場合)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Content
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Page, expect
from product_fixtures import ROOT, Product, close_page, new_page, screenshot
from search_browser import result_pages, wait_for_answer

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

WIDTHS = [320, 375, 768, 1366, 1920]

# Problems of every table cell of the page, as a reader sees them:
# - hidden (display: none, visibility: hidden, an empty box),
# - clipped (its content wider than its box: scrollWidth > clientWidth + 1), or cut by an
#   ancestor that hides overflow,
# - out of reach: not within the viewport's width, unless it sits in a scroll container
#   the reader can scroll (the document scrolling sideways does not count).
# The column headers of a table shown as cards (its header row out of sight: 1px or less)
# are hidden on purpose; instead, every value cell must show its column's label
# (data-label, written before it) and every label must be one of the headers.
_CELL_PROBLEMS = """
() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const tables = [...document.querySelectorAll("article table")];
  tables.forEach((table, t) => {
    const head = table.querySelector("thead");
    const cards = !!head && head.getBoundingClientRect().width <= 1;
    const headers = [...table.querySelectorAll("thead th")].map(
      (th) => th.textContent.replace(/\\s+/g, ""));
    for (const cell of table.querySelectorAll("th, td")) {
      const name = `table ${t + 1} ${cell.tagName} "${cell.textContent.trim().slice(0, 24)}"`;
      if (cards && cell.closest("thead")) continue;
      const style = getComputedStyle(cell);
      const box = cell.getBoundingClientRect();
      if (style.display === "none" || style.visibility === "hidden" || !box.width
          || !box.height) {
        problems.push(`hidden: ${name}`);
        continue;
      }
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`clipped (${cell.scrollWidth} > ${cell.clientWidth}): ${name}`);
      }
      if (cards && cell.tagName === "TD") {
        const label = cell.getAttribute("data-label") || "";
        const shown = getComputedStyle(cell, "::before").content;
        if (!headers.includes(label.replace(/\\s+/g, "")) || !shown || shown === "none") {
          problems.push(`card value without its column's label: ${name}`);
        }
      }
      let reachable = box.left >= -1 && box.right <= width + 1;
      for (let el = cell.parentElement; el && el !== document.body; el = el.parentElement) {
        const over = getComputedStyle(el).overflowX;
        const outer = el.getBoundingClientRect();
        if (/auto|scroll/.test(over) && el.scrollWidth > el.clientWidth + 1) {
          const left = box.left - outer.left + el.scrollLeft;
          reachable = reachable || (left >= -1 && left + box.width <= el.scrollWidth + 1
            && outer.left >= -1 && outer.right <= width + 1);
        } else if (/hidden|clip/.test(over)
                   && (box.left < outer.left - 1 || box.right > outer.right + 1)) {
          problems.push(`cut by ${el.tagName}.${el.className}: ${name}`);
        }
      }
      if (!reachable) problems.push(`out of reach (${box.left}..${box.right}): ${name}`);
    }
  });
  return {tables: tables.length, problems};
}
"""

# The price table beyond the general rule: every cell inside the table's own box (no
# sideways scrolling at all), plan names on one line.
_PRICE_TABLE = """
() => {
  const wrap = document.querySelector(".kb-price-table");
  const table = wrap.querySelector("table");
  const box = wrap.getBoundingClientRect();
  const outside = [...table.querySelectorAll("tbody th, tbody td")].filter((cell) => {
    const r = cell.getBoundingClientRect();
    return r.left < box.left - 1 || r.right > box.right + 1;
  }).map((cell) => cell.textContent.trim());
  const broken = [...table.querySelectorAll(".kb-plan-name")].filter((name) => {
    const line = parseFloat(getComputedStyle(name).lineHeight) || 20;
    return name.getClientRects().length !== 1 || name.getBoundingClientRect().height > 1.6 * line;
  }).map((name) => name.textContent);
  return {display: getComputedStyle(table).display, outside, broken,
          sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}
"""


@cache
def content() -> Content:
    return load_content(ROOT / "content")


def _table_pages(site: Path) -> list[str]:
    """Site paths of every built page with a table (the 404 page and assets aside)."""
    found = []
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site)
        if relative.parts[0] in {"assets", "search"} or relative.name == "404.html":
            continue
        if "<table" in path.read_text("utf-8"):
            found.append("/" + relative.as_posix().removesuffix("index.html"))
    return found


@pytest.fixture(scope="module")
def table_pages(built_site: Path) -> list[str]:
    pages = _table_pages(built_site)
    assert "/plans/" in pages
    return pages


@pytest.fixture
def phone(browser: Browser, product: Product) -> Iterator[Page]:
    page = new_page(browser, product, width=375, height=812, is_mobile=True, has_touch=True)
    yield page
    close_page(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_cell_is_clipped_hidden_or_out_of_reach(
    browser: Browser,
    product: Product,
    table_pages: list[str],
    width: int,
    site_builder: str,  # noqa: F811
) -> None:
    page = new_page(browser, product, width=width, height=900)
    try:
        for path in table_pages:
            page.goto(path)
            page.wait_for_load_state("load")
            found = page.evaluate(_CELL_PROBLEMS)
            assert found["tables"], f"{path}: no table in the article"
            assert not found["problems"], f"{path} at {width}px: {found['problems']}"
            if path == "/plans/":
                prices = page.evaluate(_PRICE_TABLE)
                assert not prices["outside"], f"cells beyond the table's box: {prices}"
                assert not prices["broken"], f"plan names broken: {prices['broken']}"
                assert prices["sideways"] <= 0, f"the page scrolls sideways: {prices}"
                # a real table where it fits (the 1366px desktop: beside both sidebars)
                assert (prices["display"] == "table") == (width >= 768), (width, prices)
                screenshot(page, f"plans-{width}-{site_builder}")
    finally:
        close_page(page)


def test_each_plan_is_a_card_with_its_tax_included_price_beside_its_name(
    phone: Page,
    site_builder: str,  # noqa: F811
) -> None:
    phone.goto("/plans/")
    rows = phone.locator(".kb-price-table tbody tr")
    plans = content().plans
    expect(rows).to_have_count(len(plans.plans))
    for n, plan in enumerate(plans.plans):
        row = rows.nth(n)
        name = row.locator("th .kb-plan-name")
        price = row.locator("td.kb-price-incl")
        expect(name).to_have_text(plan.name)
        expect(price).to_have_text(f"{plans.price_incl_tax(plan):,}円")
        price.scroll_into_view_if_needed()
        expect(price).to_be_in_viewport()
        a, b = name.bounding_box(), price.bounding_box()
        assert a and b
        # the same line: the boxes overlap vertically, the price to the right of the name
        assert b["y"] < a["y"] + a["height"] and a["y"] < b["y"] + b["height"], (a, b)
        assert b["x"] >= a["x"] + a["width"], (a, b)
        # the tax-excluded price follows, labelled
        excl = row.locator("td[data-label='料金(税別)']")
        expect(excl).to_have_text(f"{plan.price_excl_tax:,}円")
        assert (excl.bounding_box() or {"y": 0})["y"] >= b["y"]
    assert phone.evaluate("getComputedStyle(document.querySelector('.kb-price-table table'))"
                          ".display") != "table"
    screenshot(phone, f"plans-cards-375-{site_builder}")


# -- home ---------------------------------------------------------------------------------


def test_the_home_search_box_opens_the_sites_search_with_the_words(page: Page) -> None:
    page.goto("/")
    start = page.url
    box = page.get_by_role("search", name="サイト内検索").get_by_label("知りたいことを検索")
    expect(box).to_be_visible()
    box.fill("パスワードを忘れた")
    box.press("Enter")
    wait_for_answer(page)
    assert "/faq/password-reset/" in result_pages(page)[:3]
    assert page.url == start  # answered in place, no page load


def test_without_scripts_the_home_search_box_leads_to_the_faq(
    browser: Browser, product: Product
) -> None:
    page = new_page(browser, product, java_script_enabled=False)
    try:
        page.goto("/")
        page.get_by_label("知りたいことを検索").fill("チケット")
        page.get_by_role("button", name="検索", exact=True).click()
        page.wait_for_url(re.compile(r"/faq/\?q="))
        expect(page.locator("h1")).to_contain_text("よくあるご質問")
    finally:
        close_page(page)


def test_with_scripts_the_faq_link_of_the_search_box_opens_the_search(page: Page) -> None:
    """What the box sends without scripts still searches where scripts run (?q=)."""
    page.goto("/faq/?q=" + quote("パスワードを忘れた"))
    wait_for_answer(page)
    assert "/faq/password-reset/" in result_pages(page)[:3]


def test_home_lists_the_popular_questions_and_links_the_feed(page: Page) -> None:
    page.goto("/")
    by_id = {q.id: q for q in content().published_questions}
    section = page.locator("section[data-kb-popular]")
    links = section.locator("ol > li > a")
    expect(links).to_have_count(len(content().site.popular))
    for n, question_id in enumerate(content().site.popular):
        expect(links.nth(n)).to_have_text(by_id[question_id].question)
    links.first.click()
    page.wait_for_url(f"**/faq/{content().site.popular[0]}/")
    for path in ("/", "/news/"):
        page.goto(path)
        feed = page.locator("article a.kb-feed-link")
        expect(feed).to_be_visible()
        response = page.request.get(feed.evaluate("a => a.href"))
        assert response.ok and b"<rss" in response.body()


# -- question pages -----------------------------------------------------------------------


def test_a_question_ends_with_the_ways_forward(page: Page, product: Product) -> None:
    question = content().published_questions[0]
    forms = content().site.forms
    page.goto(f"/faq/{question.id}/")
    block = page.locator("section.kb-not-solved")
    expect(block.get_by_role("heading", name="解決しない場合")).to_be_visible()
    hook = page.locator(f"div.kb-vote[data-kb-vote='{question.id}']")
    expect(hook).to_have_count(1)
    assert hook.evaluate("el => el.nextElementSibling.classList.contains('kb-not-solved')")
    for name, target in (
        ("FAQ・マニュアルへの記載要望", forms.docs_request),
        ("機能要望・問題報告", forms.feedback),
    ):
        link = block.get_by_role("link", name=name)
        expect(link).to_have_attribute("href", target)
        assert page.request.get(product.url(target)).ok
    block.get_by_role("link", name="有償サポート").click()
    page.wait_for_url("**/support/#paid")
    expect(page.locator("#paid")).to_be_visible()
