"""The finder's script in Debian's chromium, on a page made of the finder's own markup.

A quick check of plan-finder.js against the data it is built with (the full site, with the
theme, is driven by the browser tests in tests/e2e/). Everything is served from memory
through Playwright routes: no server, no network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cmskb.content.loader import load_content
from cmskb.finder.page import finder_assets, finder_markup
from playwright.sync_api import Browser, Page, Route, expect

pytestmark = [pytest.mark.service, pytest.mark.browser]

ORIGIN = "http://finder.test"


@pytest.fixture(scope="module")
def site(content_root) -> dict[str, tuple[str, str]]:
    content = load_content(content_root)
    html = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>料金</title></head>'
        f'<body><h2 id="price-table">料金表</h2>{finder_markup(content)}</body></html>'
    )
    files = {"/plans/": (html, "text/html")}
    for path, text in finder_assets(content).items():
        kind = {"json": "application/json", "js": "text/javascript", "css": "text/css"}[
            path.rsplit(".", 1)[1]]
        files["/" + path] = (text, kind)
    return files


def _open(browser: Browser, site, **options) -> Page:
    context = browser.new_context(locale="ja-JP", **options)
    context.set_default_timeout(15_000)

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path in site:
            body, kind = site[path]
            route.fulfill(status=200, body=body, content_type=f"{kind}; charset=utf-8")
        else:
            route.fulfill(status=404, body="not found")

    context.route("**/*", serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/plans/")
    return page


@pytest.fixture
def page(browser: Browser, site) -> Iterator[Page]:
    page = _open(browser, site)
    yield page
    page.context.close()


def test_finds_and_shows_the_cheapest_options(page: Page) -> None:
    page.get_by_label("お使いのライセンス").select_option("onprem-perpetual")
    page.get_by_label("必要", exact=True).check()
    page.get_by_label("検討する期間").select_option("3")
    page.get_by_label("1年目(件)").fill("20")
    page.get_by_label("2年目以降の1年あたり(件)").fill("5")
    page.get_by_role("button", name="プランを探す").click()
    expect(page.locator("#pf-status")).to_have_text(
        "いちばん安い組み合わせは合計369,600円(税込)です。差が5%以内の次点もあわせて示します。"
    )
    headings = page.locator("#pf-result h3")
    expect(headings).to_have_count(2)  # B + 2 H ties with A + 12 H; D + A is 13 % dearer
    expect(headings.first).to_have_text("案1(最安): 合計 369,600円(税込)")
    expect(headings.nth(1)).to_have_text("案2(次点、最安との差 0円): 合計 369,600円(税込)")
    first = page.locator(".kb-finder__option").first
    expect(first.locator(".kb-finder__steps > li")).to_have_count(3)
    expect(first).to_contain_text("B 1年間サポート(18チケット付) + 追加チケット1(H)×2")
    expect(first).to_contain_text("税別 336,000円/購入 5点(追加チケット 2枚、スポットチケット 0枚)")
    expect(page.locator("#pf-result .kb-finder__note a")).to_have_attribute("href", "#pf-rules")


def test_the_form_states_its_rules_and_the_ticket_rule(page: Page) -> None:
    rules = page.locator("#pf-rules li")
    expect(rules.first).to_have_text("1案件につき1チケットを使うものとして計算しています。")
    expect(rules.nth(1)).to_contain_text("サポート契約は同時に1つだけ持ち")
    expect(page.locator("#pf-ticket-rule")).to_contain_text("1案件毎に規定のサポートチケットが必要")
    expect(page.get_by_label("1年目(件)")).to_have_attribute(
        "aria-describedby", "pf-cases-hint pf-ticket-rule")


def test_refuses_bad_counts_and_marks_the_field(page: Page) -> None:
    field = page.get_by_label("1年目(件)")
    field.fill("61")
    page.get_by_role("button", name="プランを探す").click()
    expect(page.locator("#pf-status")).to_have_text("件数は0〜60の整数で入力してください。")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pf-result > *")).to_have_count(0)


def test_full_width_digits_and_one_year(page: Page) -> None:
    page.get_by_label("検討する期間").select_option("1")
    expect(page.get_by_label("2年目以降の1年あたり(件)")).to_be_disabled()
    page.get_by_label("1年目(件)").fill("３０")
    page.get_by_role("button", name="プランを探す").click()
    expect(page.locator("#pf-result h3").first).to_have_text("案1(最安): 合計 264,000円(税込)")


def test_says_when_nothing_fits(page: Page) -> None:
    page.get_by_label("お使いのライセンス").select_option("asp")
    page.get_by_label("必要", exact=True).check()
    page.get_by_label("契約しない(スポットチケットのみ)").check()
    page.get_by_role("button", name="プランを探す").click()
    expect(page.locator("#pf-status")).to_contain_text("条件に合う組み合わせはありません。")
    expect(page.locator("#pf-result h3")).to_have_count(0)


def test_without_javascript_the_page_points_to_the_table_and_guide(browser, site) -> None:
    page = _open(browser, site, java_script_enabled=False)
    try:
        expect(page.locator("#pf-form")).to_be_hidden()
        # Playwright's text and role engines skip <noscript>: use its id
        line = page.locator("#pf-noscript")
        expect(line).to_be_visible()
        expect(line).to_contain_text("プランの自動診断には JavaScript を使います。")
        expect(line.locator("a")).to_have_text(["料金表", "プランの選び方"])
    finally:
        page.context.close()
