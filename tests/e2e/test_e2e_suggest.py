"""Answers before a request: while a customer types a request form's subject or body, the
site's own questions that match appear under the field (forms_app/static/kb-suggest.js,
answered by the site search's worker and index of the built site, on both builds).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_forms import fill_feedback, receipt_of, submit
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Page, expect
from product_fixtures import Product, close_page, new_page, screenshot
from suggest_browser import box, links, open_suggestions, suggested_paths, type_text

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

# (field, what a customer types, the shipped question that must be suggested). Each page
# was checked against content/faq/: the question exists and answers what was typed.
CASES = [
    ("title", "どのプランを選べばいいか分からない", "/faq/which-plan/"),
    # no question is about counting tickets; the expiry one tells to check what is left
    ("title", "チケットの残数を確認したい", "/faq/ticket-expiry/"),
    ("title", "管理画面のパスワードを忘れてしまいました", "/faq/password-reset/"),
    ("title", "ログインできません", "/faq/password-reset/"),
    ("title", "サポートIDがエラーになる", "/faq/support-id-error/"),
    ("title", "新しいユーザーを追加したい", "/faq/add-user/"),
    ("title", "ロゴ画像を差し替えたい", "/faq/logo-image-change/"),
    ("title", "Cronの設定を間違えてしまった", "/faq/cron-settings/"),
    ("title", "チケットの有効期限はいつまで？", "/faq/ticket-expiry/"),
    ("title", "Google アナリティクスのタグを入れたい", "/faq/analytics-tag/"),
    ("title", "承認フローを設定したい", "/faq/approval-flow/"),
    ("title", "ブラウザで管理画面の表示が崩れる", "/faq/latest-browser-issue/"),
    ("description", "送った要望の受付状況を知りたいです。どこで確認できますか。",
     "/faq/request-status/"),
    ("description", "CSSの修正をお願いしたいのですが、対応してもらえますか。", "/faq/css-changes/"),
]

# Count the queries the page sends to the search worker (message type 2, see the worker).
# Queries posted to search workers. The header search of the site's frame asks its worker
# once with its empty box when it is ready: only queries with text count here.
COUNT_QUERIES = """
window.__kbQueries = [];
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (message, ...rest) {
  if (message && message.type === 2 && message.data) window.__kbQueries.push(message.data);
  return post.call(this, message, ...rest);
};
"""


@pytest.fixture
def page(browser: Browser, product: Product) -> Iterator[Page]:
    """A page on the product of each build, noting content-security-policy refusals."""
    page = new_page(browser, product)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    close_page(page)
    assert not refused, refused


def test_typed_subjects_suggest_the_right_question(
    page: Page, site_builder: str  # noqa: F811
) -> None:
    page.goto("/forms/feedback/")
    missed = []
    for field, text, expected in CASES:
        type_text(page, field, text)
        found = suggested_paths(page, field)
        assert 1 <= len(found) <= 5, (text, found)
        if expected not in found:
            missed.append(f"{text}: {found}")
        count = len(found)
        expect(box(page, field).locator("[role=status]")).to_have_text(
            f"入力内容に近いよくあるご質問が{count}件見つかりました。"
        )
    assert not missed, "\n".join(missed)
    screenshot(page, f"form-suggestions-{site_builder}")


def test_docs_request_body_suggests_questions(page: Page) -> None:
    page.goto("/forms/docs-request/")
    type_text(page, "missing", "追加チケットは誰が購入できるのか書かれていません")
    assert "/faq/add-tickets/" in suggested_paths(page, "missing")


def test_keyboard_reaches_a_suggestion_and_enter_still_submits(page: Page) -> None:
    page.goto("/forms/feedback/")
    type_text(page, "title", "新しいユーザーを追加したい")
    title = page.locator("#title")
    title.focus()
    page.keyboard.press("Tab")
    first = links(page, "title").first
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("aria-expanded", "true")
    answer = page.locator(f"#{first.get_attribute('aria-controls')}")
    expect(answer).to_be_visible()
    expect(answer.locator(".kb-suggest__body")).not_to_contain_text("読み込んでいます")
    expect(answer.locator(".kb-suggest__more a")).to_have_attribute("target", "_blank")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("aria-expanded", "false")
    expect(answer).to_be_hidden()
    # the subject field is no combobox: Enter there submits the form as before
    title.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text("送信できませんでした")
    expect(page.locator("#title")).to_have_value("新しいユーザーを追加したい")
    # shown again with its errors, the form suggests for what was already typed
    expect(box(page, "title").locator("[role=status]")).to_contain_text("件見つかりました")
    assert "/faq/add-user/" in suggested_paths(page, "title")


def test_no_query_while_an_ime_composes(browser: Browser, product: Product) -> None:
    page = new_page(browser, product)
    try:
        page.add_init_script(COUNT_QUERIES)
        page.goto("/forms/feedback/")
        page.locator("#title").focus()
        cdp = page.context.new_cdp_session(page)
        for typed in ["ぱ", "ぱす", "ぱすわ", "ぱすわー", "ぱすわーど", "パスワード"]:
            cdp.send(
                "Input.imeSetComposition",
                {"text": typed, "selectionStart": len(typed), "selectionEnd": len(typed)},
            )
            page.wait_for_timeout(150)
        page.wait_for_timeout(1000)  # well past the pause that sends a query
        # the field really holds the text being converted (input events did fire)...
        assert page.locator("#title").input_value() == "パスワード"
        # ...but no query went out for it
        assert page.evaluate("window.__kbQueries") == []
        expect(box(page, "title").locator(".kb-suggest__panel")).to_be_hidden()
        cdp.send("Input.insertText", {"text": "パスワード"})  # the conversion is committed
        expect(box(page, "title").locator("[role=status]")).to_contain_text("件見つかりました")
        assert page.evaluate("window.__kbQueries") == ["パスワード"]
        assert "/faq/password-reset/" in suggested_paths(page, "title")
    finally:
        close_page(page)


def test_without_javascript_no_suggestions_and_the_form_works(
    browser: Browser, product: Product
) -> None:
    page = new_page(browser, product, java_script_enabled=False)
    try:
        fill_feedback(page, product.support_id, 件名="パスワードを忘れてしまった")
        for field in ("title", "description"):
            assert box(page, field).inner_html() == ""
        submit(page)
        receipt_of(page)
    finally:
        close_page(page)


def test_typed_text_survives_opening_a_suggestion(page: Page, product: Product) -> None:
    typed = fill_feedback(page, product.support_id, 件名="パスワードを忘れてしまった")
    type_text(page, "title", typed["件名"])
    first = links(page, "title").first
    expect(first).to_have_attribute("href", "/faq/password-reset/")
    first.click()
    answer = page.locator(f"#{first.get_attribute('aria-controls')}")
    expect(answer).to_contain_text("パスワード")
    with page.expect_popup() as popup:
        answer.get_by_role("link", name="このご質問のページを新しいタブで開く").click()
    opened = popup.value
    opened.wait_for_load_state()
    assert opened.url.endswith("/faq/password-reset/")
    opened.close()
    for label, value in typed.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    submit(page)
    receipt_of(page)


def test_suggestions_and_an_open_answer_look_right(
    page: Page, site_builder: str  # noqa: F811
) -> None:
    open_suggestions(page)
    answer = box(page, "title").locator(".kb-suggest__answer").first
    # the suggestions' style sheet (added by the script) is in force
    panel = box(page, "title").locator(".kb-suggest__panel")
    assert panel.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
    # the answer's own ids are dropped: the form's ids stay unique
    assert answer.locator("[id]").count() == 0
    assert page.evaluate(
        "() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id);"
        " return ids.length === new Set(ids).size; }"
    )
    screenshot(page, f"form-suggestion-open-{site_builder}")
