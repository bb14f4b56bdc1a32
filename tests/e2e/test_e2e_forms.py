"""A licensed customer uses the two request forms in a real browser, on the served product.

The support ID is the demo ID `cmskit-serve` printed at start (a fresh SQLite queue per
session). Errors must appear beside their field, tied to it for assistive technology, with
everything typed still in place.
"""

from __future__ import annotations

import re

import pytest
from e2e_forms import WRONG_ID, fill_feedback, full_width, receipt_of, status_of, submit
from playwright.sync_api import Page, expect
from product_fixtures import Product, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

def expect_field_error(page: Page, field_id: str, message: str) -> None:
    """The error is beside the field and tied to it (aria-describedby, aria-invalid)."""
    error = page.locator(f"#{field_id}-error")
    expect(error).to_contain_text(message)
    field = page.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby") or ""
    assert f"{field_id}-error" in described.split(), described
    # beside: the error sits in the same field block as its input
    block = page.locator(".field", has=page.locator(f"#{field_id}"))
    expect(block.locator(f"#{field_id}-error")).to_have_count(1)


def test_feedback_with_a_valid_id_gets_a_receipt_and_a_status(page: Page, product: Product) -> None:
    fill_feedback(page, product.support_id)
    screenshot(page, "form-feedback")
    submit(page)
    receipt = receipt_of(page)
    screenshot(page, "form-thanks")
    assert status_of(page, receipt) == "受付済み"
    expect(page.locator(".status-result")).not_to_contain_text("並べ替え")
    screenshot(page, "form-status")


def test_docs_request_with_a_full_width_id_gets_a_receipt(page: Page, product: Product) -> None:
    page.goto("/forms/docs-request/")
    page.get_by_label("サポートID", exact=True).fill(full_width(product.support_id))
    page.get_by_label("FAQ(よくあるご質問)", exact=True).check()
    page.get_by_label("対象ページのURL(任意)", exact=True).fill("/faq/cron-settings/")
    page.get_by_label("不足している内容・わかりにくい点", exact=True).fill(
        "Cron設定の例に、毎時実行する場合の書き方がありません。"
    )
    page.get_by_label("記載してほしい内容(文案・任意)", exact=True).fill(
        "0 * * * * の例を追加してください。"
    )
    screenshot(page, "form-docs-request")
    submit(page)
    receipt = receipt_of(page)
    assert status_of(page, receipt) == "受付済み"


def test_wrong_id_is_refused_beside_the_field_keeping_the_rest(
    page: Page, product: Product
) -> None:
    typed = fill_feedback(page, "DEMO-ZZZZ-ZZZZ-ZZZZ")
    submit(page)
    assert "/forms/thanks/" not in page.url
    expect_field_error(page, "support_id", WRONG_ID)
    expect(page.get_by_role("alert")).to_contain_text("送信できませんでした")
    for label in ("件名", "内容", "再現手順(問題報告の場合は必須)", "ブラウザ・動作環境"):
        expect(page.get_by_label(label, exact=True)).to_have_value(typed[label])
    expect(page.get_by_label("問題報告", exact=True)).to_be_checked()
    expect(page.get_by_label("製品", exact=True)).to_have_value("cloud")
    screenshot(page, "form-wrong-id")


def test_missing_field_is_named_beside_it_keeping_the_rest(page: Page, product: Product) -> None:
    typed = fill_feedback(page, product.support_id, 件名="")
    submit(page)
    expect_field_error(page, "title", "件名を入力してください")
    expect(page.get_by_label("内容", exact=True)).to_have_value(typed["内容"])
    expect(page.get_by_label("サポートID", exact=True)).to_have_value(product.support_id)
    expect(page.locator("#support_id-error")).to_have_count(0)
    summary = page.get_by_role("alert")
    summary.get_by_role("link").filter(has_text="件名").click()
    expect(page.locator("#title")).to_be_focused()


def test_too_long_field_is_refused_keeping_the_text(page: Page, product: Product) -> None:
    long_title = "長" * 101
    typed = fill_feedback(page, product.support_id, 件名=long_title)
    submit(page)
    expect_field_error(page, "title", "100文字以内で入力してください")
    expect(page.get_by_label("件名", exact=True)).to_have_value(long_title)
    expect(page.get_by_label("期待した結果(問題報告の場合は必須)", exact=True)).to_have_value(
        typed["期待した結果(問題報告の場合は必須)"]
    )


def test_unknown_receipt_gets_a_clear_message(page: Page) -> None:
    page.goto("/forms/status/")
    page.get_by_label("受付番号", exact=True).fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="確認する").click()
    expect(page.locator("#receipt-error")).to_be_visible()
    expect(page.locator(".status-result")).to_have_count(0)


def test_forms_link_back_to_the_site(page: Page) -> None:
    page.goto("/forms/feedback/")
    page.get_by_role("link", name=re.compile("よくあるご質問")).first.click()
    page.wait_for_url("**/faq/")
    assert page.locator("h1").inner_text().replace("¶", "").strip() == "よくあるご質問"
