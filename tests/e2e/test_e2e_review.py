"""A reviewer works through the queue in a real browser, and the customer sees the result.

The reviewer account is made with the staff command line (`cmskit-forms review
add-reviewer`), against the same queue the served product uses. A customer's hostile text
(script tags, event handlers) must stay inert text in the reviewer's view.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_forms import fill_feedback, receipt_of, status_of, submit
from playwright.sync_api import Browser, Dialog, Page, expect
from product_fixtures import Product, close_page, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

REVIEWER = "e2e-reviewer"
PASSWORD = "correct horse battery staple 42"
HOSTILE_TITLE = "<script>alert('title')</script>件名"
HOSTILE_BODY = (
    "<img src=x onerror=\"alert('img')\">"
    "<svg onload=alert('svg')></svg>"
    "\"><b onmouseover=alert('b')>太字</b>"
    "<a href=\"javascript:alert('link')\">リンク</a>"
)


@pytest.fixture(scope="module")
def reviewer(product: Product) -> str:
    return product.add_reviewer(REVIEWER, PASSWORD)


@pytest.fixture
def customer(page: Page) -> Page:
    """The customer's browser page: the shared `page` fixture (tests/product_fixtures.py)."""
    return page


@pytest.fixture
def staff(browser: Browser, product: Product, reviewer: str) -> Iterator[Page]:
    """A logged-in reviewer's page; every dialog it opens is recorded (and must not happen)."""
    page = new_page(browser, product)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    page.goto("/forms/review/")
    page.wait_for_url("**/forms/review/login**")
    page.get_by_label("ユーザー名", exact=True).fill(reviewer)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/forms/review/")
    yield page
    assert dialogs == [], f"customer text ran as script in the reviewer view: {dialogs}"
    close_page(page)


def test_wrong_password_is_refused(browser: Browser, product: Product, reviewer: str) -> None:
    page = new_page(browser, product)
    try:
        page.goto("/forms/review/login")
        page.get_by_label("ユーザー名", exact=True).fill(reviewer)
        page.get_by_label("パスワード", exact=True).fill("not the password")
        page.get_by_role("button", name="ログイン").click()
        expect(page.locator("#login-error")).to_be_visible()
        assert "/forms/review/login" in page.url
    finally:
        close_page(page)


def test_reviewer_claims_and_triages_and_the_status_page_follows(
    customer: Page, staff: Page, product: Product
) -> None:
    fill_feedback(customer, product.support_id, 件名="承認フローの差し戻し理由が消える")
    submit(customer)
    receipt = receipt_of(customer)
    assert status_of(customer, receipt) == "受付済み"

    staff.reload()
    row = staff.locator("tr", has=staff.get_by_role("link", name=receipt, exact=True))
    expect(row).to_contain_text("承認フローの差し戻し理由が消える")
    screenshot(staff, "review-list")
    row.get_by_role("link", name=receipt, exact=True).click()
    staff.get_by_role("button", name="担当する").click()
    staff.wait_for_load_state()
    expect(staff.locator("dd", has_text=REVIEWER).first).to_be_visible()
    expect(staff.get_by_role("button", name="担当を外れる")).to_be_visible()

    staff.get_by_label("ステータスを変更", exact=True).select_option("in_review")
    staff.get_by_label("内部コメント", exact=False).fill("再現を確認中")
    staff.get_by_role("button", name="変更する").click()
    staff.wait_for_load_state()
    expect(staff.locator(".rv-status").first).to_have_text("確認中")
    screenshot(staff, "review-detail")
    assert status_of(customer, receipt) == "確認中"

    staff.go_back()
    staff.reload()
    staff.get_by_label("ステータスを変更", exact=True).select_option("accepted")
    staff.get_by_role("button", name="変更する").click()
    staff.wait_for_load_state()
    assert status_of(customer, receipt) == "採用"
    # The internal comment never reaches the customer.
    expect(customer.locator("main")).not_to_contain_text("再現を確認中")


def test_hostile_customer_text_is_inert_for_the_reviewer(
    customer: Page, staff: Page, product: Product
) -> None:
    fill_feedback(
        customer, product.support_id, 件名=HOSTILE_TITLE, 内容=HOSTILE_BODY,
        **{"ブラウザ・動作環境": "<iframe src=javascript:alert('env')></iframe>"},
    )
    submit(customer)
    receipt = receipt_of(customer)

    staff.reload()
    expect(staff.get_by_role("link", name=receipt, exact=True)).to_be_visible()
    expect(staff.locator("main")).to_contain_text(HOSTILE_TITLE)
    staff.get_by_role("link", name=receipt, exact=True).click()
    staff.wait_for_load_state()
    main = staff.locator("main")
    text = main.inner_text()
    assert HOSTILE_TITLE in text
    assert "<img src=x onerror=" in text
    assert "<svg onload=alert('svg')></svg>" in text
    assert "<iframe src=javascript:alert('env')></iframe>" in text
    # Nothing the customer typed became an element.
    injected = ("img[src='x']", "svg[onload]", "b[onmouseover]", "iframe", "a[href^='javascript']")
    for selector in injected:
        expect(main.locator(selector)).to_have_count(0)
    expect(main.locator("script")).to_have_count(0)
    staff.mouse.move(10, 10)
    screenshot(staff, "review-hostile-text")
