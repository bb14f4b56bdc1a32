"""axe-core (bundled by axe-playwright-python, nothing downloaded) in Debian's chromium on
the main pages and both form pages, light and dark: no serious or critical violation."""

from __future__ import annotations

from functools import cache

import pytest
from axe_playwright_python.sync_playwright import Axe
from cmskb.content.loader import load_content
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser, Page
from product_fixtures import ROOT, Product, close_page, new_page
from search_browser import run_search
from suggest_browser import open_suggestions

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

BLOCKING = {"serious", "critical"}


@cache
def _a_question() -> str:
    content = load_content(ROOT / "content")
    return f"/faq/{content.published_questions[0].id}/"


PAGES = [
    "/",
    "/faq/",
    "question",
    "/faq/category/contracts/",
    "/plans/",
    "/news/",
    "/forms/",
    "/forms/feedback/",
    "/forms/docs-request/",
    "/forms/status/",
    # The forms' error states in the site's frame: fields with errors (and the support-ID
    # question linked from its error), a receipt not found, the app's 404, nginx's own pages.
    "feedback-errors",
    "/forms/status/?receipt=AAAA-BBBB-CCCC",
    "/forms/no-such-page/",
    "/errors/413.html",
    "/errors/503.html",
]
# Pages whose layout changes on a phone (the price table as cards, the home search box,
# the question's 解決しない場合 block), checked again at 375 px.
PHONE_PAGES = ["/", "/plans/", "question"]


def _settled_axe(page: Page) -> dict[str, object]:
    """axe once no transition runs: a click that scrolls makes Material fade its tabs out,
    links fade to their colour, and a half-faded link is not what a reader is left with."""
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running')"
    )
    return Axe().run(page).response  # type: ignore[no-any-return]


def _violations(results: dict[str, object]) -> list[str]:
    found = []
    for violation in results["violations"]:  # type: ignore[union-attr]
        if violation["impact"] in BLOCKING:
            # each node with axe's reason (colours and ratio for a contrast failure)
            targets = [
                ", ".join(node["target"])
                + (f" ({node['any'][0]['message']})" if node.get("any") else "")
                for node in violation["nodes"]
            ][:5]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}"
            )
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(
    browser: Browser, product: Product, path: str, scheme: str
) -> None:
    page = new_page(browser, product, color_scheme=scheme)
    try:
        if path == "feedback-errors":
            page.goto("/forms/feedback/")
            page.get_by_label("サポートID", exact=True).fill("WRONG-0000")
            page.get_by_role("button", name="送信する").click()
            page.locator("#support_id-error").wait_for()
        else:
            page.goto(_a_question() if path == "question" else path)
        page.wait_for_load_state("networkidle")
        results = _settled_axe(page)
        assert results["passes"] or results["violations"] is not None
        problems = _violations(results)
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PHONE_PAGES)
def test_no_serious_accessibility_violation_on_a_phone(
    browser: Browser, product: Product, path: str, scheme: str
) -> None:
    page = new_page(
        browser, product, width=375, height=812, is_mobile=True, has_touch=True,
        color_scheme=scheme,
    )
    try:
        page.goto(_a_question() if path == "question" else path)
        page.wait_for_load_state("networkidle")
        problems = _violations(_settled_axe(page))
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)


def test_axe_finds_a_known_violation(browser: Browser, product: Product) -> None:
    """The checker really runs: an image without alt text on a page is reported."""
    page = new_page(browser, product)
    try:
        page.goto("/faq/")
        page.evaluate(
            "document.querySelector('article').insertAdjacentHTML('beforeend',"
            " '<img src=\"/assets/images/favicon.png\"><input type=\"text\">')"
        )
        ids = {v["id"] for v in _settled_axe(page)["violations"]}
        assert {"image-alt", "label"} <= ids, ids
    finally:
        close_page(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("query", ["パスワードを忘れた", "ｘｙｚｚｙ存在しない語句"])
def test_search_dialog_with_results_or_none_has_no_serious_violation(
    browser: Browser, product: Product, query: str, scheme: str
) -> None:
    page = new_page(browser, product, color_scheme=scheme)
    try:
        page.goto("/")
        run_search(page, query)
        results = _settled_axe(page)
        problems = _violations(results)
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)


# --- "役に立ちましたか?" and the reviewers' votes view (issue 12) ------------------------

VOTE_REVIEWER = "axe-reviewer"
VOTE_REVIEWER_PASSWORD = "correct horse battery staple axe"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("choice", ["はい", "いいえ"])
def test_vote_widget_states_have_no_serious_violation(
    browser: Browser, product: Product, choice: str, scheme: str
) -> None:
    """The widget as filled by kb-votes.js: asked, answered (いいえ shows the form link),
    and as shown again after a reload."""
    page = new_page(browser, product, color_scheme=scheme)
    try:
        page.goto(_a_question())
        root = page.locator("[data-kb-vote]")
        root.get_by_role("button", name="はい", exact=True).wait_for()
        problems = _violations(_settled_axe(page))
        root.get_by_role("button", name=choice, exact=True).click()
        root.get_by_role("status").filter(has_text="ありがとうございました").wait_for()
        problems += _violations(_settled_axe(page))
        page.reload()
        root.get_by_role("status").filter(has_text="回答済み").wait_for()
        problems += _violations(_settled_axe(page))
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)


@pytest.mark.parametrize("width", [375, 1280])
def test_review_votes_view_has_no_serious_violation(
    browser: Browser, product: Product, width: int
) -> None:
    product.forms_cli(  # already there on the second run: the command then fails, harmlessly
        "review", "add-reviewer", VOTE_REVIEWER, "--password-stdin",
        stdin=VOTE_REVIEWER_PASSWORD,
    )
    page = new_page(browser, product, width=width)
    try:
        page.goto(_a_question())
        page.locator("[data-kb-vote]").get_by_role("button", name="いいえ", exact=True).click()
        page.locator("[data-kb-vote]").get_by_role("status").wait_for()
        page.goto("/forms/review/login?next=/forms/review/votes")
        page.get_by_label("ユーザー名", exact=True).fill(VOTE_REVIEWER)
        page.get_by_label("パスワード", exact=True).fill(VOTE_REVIEWER_PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/forms/review/votes")
        page.locator("td.rv-subject").first.wait_for()
        problems = _violations(_settled_axe(page))
        page.goto("/forms/review/")
        problems += _violations(_settled_axe(page))
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_form_with_suggestions_and_an_open_answer_has_no_serious_violation(
    browser: Browser, product: Product, scheme: str
) -> None:
    page = new_page(browser, product, color_scheme=scheme)
    try:
        open_suggestions(page)
        problems = _violations(_settled_axe(page))
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)
