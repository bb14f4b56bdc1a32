"""Japanese search in a real browser: ordinary queries find the right question.

Material's search runs its query on `keyup`; Japanese text filled by Playwright arrives with no
key events (as from an IME), so each query ends with an `End` key press, as a person's IME
would end with a key. Results are read from Material's own result list once its counter
shows the answer to this query.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page
from product_fixtures import Product, close_page, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

# (query, expected page, where): "first" = the first page listed, "top3" = among the first
# three distinct pages. Expectations come from the shipped questions in content/faq/.
CASES: list[tuple[str, str, str]] = [
    # compound words
    ("料金プラン", "/faq/plan-prices/", "top3"),
    ("チケットの有効期限", "/faq/ticket-expiry/", "first"),
    ("テンプレート作成", "/faq/template-create/", "first"),
    ("権限設定", "/faq/permission-settings/", "top3"),
    ("承認フロー", "/faq/approval-flow/", "first"),
    ("アクセス解析タグ", "/faq/analytics-tag/", "first"),
    ("メールアドレス追加", "/faq/add-mail-address/", "first"),
    ("バージョンアップ方法", "/faq/version-up-method/", "first"),
    ("問い合わせ時間", "/faq/inquiry-hours/", "first"),
    ("個別回答", "/faq/individual-answers/", "top3"),
    ("動作環境", "/faq/system-requirements/", "top3"),
    ("税込価格", "/faq/tax-included-price/", "first"),
    # katakana terms
    ("スポットチケット", "/faq/spot-ticket/", "first"),
    ("マイナーバージョンアップ", "/faq/minor-version-up-onprem/", "top3"),
    ("フォーラム", "/faq/forum/", "first"),
    ("オンサイト", "/faq/onsite-support/", "first"),
    ("追加チケット", "/faq/add-tickets/", "first"),
    ("スタイルシート", "/faq/css-changes/", "first"),
    # mixed Latin and Japanese
    ("Cron設定", "/faq/cron-settings/", "first"),
    ("cron設定", "/faq/cron-settings/", "first"),
    ("サポートID", "/faq/support-id/", "first"),
    ("導入型ライセンス", "/faq/perpetual-vs-annual/", "top3"),
    # full-width Latin letters, as many Japanese keyboards type them (normalised by kb.js)
    ("サポートＩＤ", "/faq/support-id/", "first"),
    ("Ｃｒｏｎ設定", "/faq/cron-settings/", "first"),
    # sentences with particles
    ("パスワードを忘れた", "/faq/password-reset/", "first"),
    ("チケットが足りなくなったら", "/faq/ticket-shortage/", "first"),
    ("ロゴを差し替えたい", "/faq/logo-image-change/", "first"),
    ("自動リンクがおかしい", "/faq/auto-link-repair/", "first"),
    ("ソーシャルメディアと連携したい", "/faq/social-media/", "first"),
    ("ユーザーを追加したい", "/faq/add-user/", "first"),
    ("専用タグの設置方法", "/faq/dedicated-tags/", "first"),
    ("導入型ライセンスのインストール方法", "/faq/install-procedure/", "first"),
    ("マイナーバージョンアップとメジャーバージョンアップの違い", "/faq/minor-vs-major/", "first"),
]

# ASCII test ids (pytest escapes Japanese ones): position and expected question id.
CASE_IDS = [f"{n:02d}-{page.strip('/').split('/')[-1]}" for n, (_, page, _) in enumerate(CASES)]


_IDLE = "検索キーワードを入力してください"
_META = ".md-search-result__meta"


@pytest.fixture(scope="module")
def search_page(browser: Browser, product: Product) -> Iterator[Page]:
    """One page for every query: the search index is loaded once."""
    page = new_page(browser, product)
    page.goto("/")
    yield page
    close_page(page)


def run_search(page: Page, query: str) -> list[str]:
    """Type `query` into Material's search box; the result pages, in order, de-duplicated."""
    box = page.locator("input.md-search__input")
    if not box.is_visible():  # narrow screens: the magnifier button opens the search
        page.locator("label.md-header__button[for='__search']").click()
    box.click()
    box.fill("")
    box.press("End")
    page.wait_for_function(
        "([sel, idle]) => document.querySelector(sel)?.textContent.includes(idle)",
        arg=[_META, _IDLE],
    )
    box.fill(query)
    box.press("End")
    page.wait_for_function(
        "([sel, idle]) => { const t = document.querySelector(sel)?.textContent ?? '';"
        " return t !== '' && !t.includes(idle); }",
        arg=[_META, _IDLE],
    )
    hrefs = page.eval_on_selector_all(
        ".md-search-result__list > .md-search-result__item > a",
        "links => links.map(a => a.href)",
    )
    pages: list[str] = []
    for href in hrefs:
        path = urlsplit(href).path
        if path not in pages:
            pages.append(path)
    return pages


def test_at_least_twenty_queries_are_checked() -> None:
    assert len(CASES) >= 20
    assert len({query for query, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("query", "expected", "where"), CASES, ids=CASE_IDS)
def test_japanese_query_finds_the_question(
    search_page: Page, query: str, expected: str, where: str
) -> None:
    pages = run_search(search_page, query)
    assert pages, f"{query!r} found nothing"
    if where == "first":
        assert pages[0] == expected, f"{query!r}: expected {expected} first, got {pages[:5]}"
    else:
        assert expected in pages[:3], f"{query!r}: expected {expected} in top 3, got {pages[:5]}"


def test_search_result_leads_to_the_question_page(page: Page) -> None:
    page.goto("/")
    run_search(page, "パスワードを忘れた")
    screenshot(page, "search-results")
    page.locator(".md-search-result__list > .md-search-result__item > a").first.click()
    page.wait_for_url("**/faq/password-reset/**")
    assert "パスワードを忘れた" in page.locator("h1").inner_text()
