"""The reviewers' pages on a phone (375 px): the request list, a request and the votes view
fit the screen (no element wider than the viewport, no sideways scroll) and a long subject
reads as lines of text, not one character a line."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
from cmskb.content.loader import load_content
from e2e_forms import fill_feedback, receipt_of, submit
from playwright.sync_api import Browser, Page, expect
from product_fixtures import ROOT, Product, close_page, new_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

REVIEWER = "mobile-reviewer"
PASSWORD = "correct horse battery staple 375"
LONG_SUBJECT = (
    "承認フローで差し戻した記事の理由コメントが、再申請の画面を開くと消えてしまう件について"
)

# Elements reaching beyond the viewport's right edge, by tag and class. Left out: what is
# hidden on purpose (clipped away, as the cards' column headings kept for screen readers, or
# parked left of the page, as the skip link until it is focused: no scroll reaches there).
_TOO_WIDE = """
() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.clip !== "auto" || style.clipPath !== "none") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if ((box.width === 0 && box.height === 0) || box.right <= 0 || clipped(el)) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      const where = `${Math.round(box.left)}-${Math.round(box.right)}`;
      found.push(`${el.tagName.toLowerCase()}.${el.className} ${where}`);
    }
  }
  return found;
}
"""


@cache
def _a_question() -> str:
    return load_content(ROOT / "content").published_questions[-1].id


@pytest.fixture(scope="module")
def reviewer(product: Product) -> str:
    return product.add_reviewer(REVIEWER, PASSWORD)


@pytest.fixture
def phone(browser: Browser, product: Product, reviewer: str) -> Iterator[Page]:
    page = new_page(browser, product, width=375, height=812, is_mobile=True, has_touch=True)
    page.goto("/forms/review/login")
    _fits(page, "review-login-375")
    page.get_by_label("ユーザー名", exact=True).fill(reviewer)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/forms/review/")
    yield page
    close_page(page)


def _fits(page: Page, name: str) -> None:
    screenshot(page, name)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 375px"
    too_wide = page.evaluate(_TOO_WIDE)
    assert not too_wide, f"{name}: wider than the viewport: {too_wide[:10]}"


def test_review_pages_fit_a_375px_phone(phone: Page, browser: Browser, product: Product) -> None:
    customer = new_page(browser, product)
    try:
        fill_feedback(customer, product.support_id, 件名=LONG_SUBJECT)
        submit(customer)
        receipt = receipt_of(customer)
        # And a vote, so that the votes view has rows.
        customer.goto(f"/faq/{_a_question()}/")
        no = customer.locator("[data-kb-vote]").get_by_role("button", name="いいえ", exact=True)
        no.click()
        expect(no).to_have_attribute("aria-pressed", "true")
    finally:
        close_page(customer)
    phone.reload()
    _fits(phone, "review-list-375")
    subject = phone.locator("td.rv-subject", has_text=LONG_SUBJECT)
    expect(subject).to_be_visible()
    box = subject.bounding_box()
    assert box is not None and box["width"] >= 250, box  # a line of text, not a column
    phone.get_by_role("link", name=receipt, exact=True).click()
    phone.wait_for_url("**/forms/review/requests/**")
    _fits(phone, "review-detail-375")
    phone.get_by_role("link", name="回答の評価").click()
    phone.wait_for_url("**/forms/review/votes")
    expect(phone.locator("h1")).to_have_text("回答の評価")
    expect(phone.locator("td.rv-subject").first).to_be_visible()
    _fits(phone, "review-votes-375")
