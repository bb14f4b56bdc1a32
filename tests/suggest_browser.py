"""Driving the request forms' suggestions (forms_app/static/kb-suggest.js) in Playwright.

Shared by tests/e2e/test_e2e_suggest.py and the validators (axe, vnu), which check the form
with suggestions shown and one answer opened. A suggestion box is the element
``[data-kb-suggest=FIELD-ID]`` after the field; its live region says how many questions it
shows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect

FOUND = "件見つかりました"


def box(page: Page, field_id: str) -> Locator:
    return page.locator(f"[data-kb-suggest='{field_id}']")


def links(page: Page, field_id: str) -> Locator:
    return box(page, field_id).locator("a.kb-suggest__link")


def type_text(page: Page, field_id: str, text: str) -> None:
    """Replace the field's text (committed text, as an IME's end result) and wait for the
    suggestions to answer: shown with their count, or hidden when nothing matches."""
    field = page.locator(f"#{field_id}")
    if field.input_value():
        field.fill("")
        expect(box(page, field_id).locator(".kb-suggest__panel")).to_be_hidden()
    field.fill(text)
    expect(box(page, field_id).locator("[role=status]")).to_contain_text(FOUND)


def suggested_paths(page: Page, field_id: str) -> list[str]:
    hrefs = links(page, field_id).evaluate_all("links => links.map(a => a.href)")
    return [urlsplit(href).path for href in hrefs]


def open_suggestions(page: Page) -> None:
    """The feedback form with suggestions under its subject and one answer opened."""
    page.goto("/forms/feedback/")
    type_text(page, "title", "パスワードを忘れてしまった")
    first = links(page, "title").first
    first.click()
    expect(first).to_have_attribute("aria-expanded", "true")
    answer = box(page, "title").locator(".kb-suggest__answer").first
    expect(answer.locator(".kb-suggest__body")).not_to_contain_text("読み込んでいます")
