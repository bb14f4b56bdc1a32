"""Helpers for driving the request forms as a customer would (shared by the e2e tests)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

RECEIPT = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
WRONG_ID = "このサポートIDではご利用いただけません"


def full_width(text: str) -> str:
    """What a customer with a Japanese IME in full-width mode types: ＤＥＭＯ－１２３."""
    return "".join(
        "－" if ch == "-" else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text
    )


def fill_feedback(page: Page, support_id: str, **override: str) -> dict[str, str]:
    """Fill the feature-request / problem-report form as a customer would; what was typed."""
    values = {
        "サポートID": support_id,
        "連絡先メールアドレス(任意)": "tanaka@example.jp",
        "バージョン": "5.3.1",
        "件名": "記事一覧の並べ替えが保存されない",
        "内容": "記事一覧で日付順に並べ替えても、次のページに移ると元の順に戻ります。",
        "再現手順(問題報告の場合は必須)": "1. 記事一覧を開く\n2. 日付で並べ替える\n3. 次のページへ",
        "期待した結果(問題報告の場合は必須)": "日付順のまま表示される",
        "実際の結果(問題報告の場合は必須)": "登録順に戻る",
        "ブラウザ・動作環境": "Chrome 130 / Windows 11",
        **override,
    }
    page.goto("/forms/feedback/")
    page.get_by_label("問題報告", exact=True).check()
    page.get_by_label("製品", exact=True).select_option(label="CMSKITクラウド")
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    return values


def submit(page: Page) -> None:
    page.get_by_role("button", name="送信する").click()
    page.wait_for_load_state()


def receipt_of(page: Page) -> str:
    page.wait_for_url("**/forms/thanks/")
    expect(page.locator("h1")).to_have_text("送信が完了しました")
    receipt = page.locator(".receipt__number").inner_text().strip()
    assert RECEIPT.match(receipt), receipt
    return receipt


def status_of(page: Page, receipt: str) -> str:
    """The status shown on the public status page for `receipt`, typed as a customer would."""
    page.goto("/forms/status/")
    page.get_by_label("受付番号", exact=True).fill(receipt)
    page.get_by_role("button", name="確認する").click()
    page.wait_for_load_state()
    return page.locator(".status-result .status").inner_text().strip()
