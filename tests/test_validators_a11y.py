"""axe-core (bundled by axe-playwright-python, nothing downloaded) in Debian's chromium on
the main pages and both form pages, light and dark: no serious or critical violation."""

from __future__ import annotations

from functools import cache

import pytest
from axe_playwright_python.sync_playwright import Axe
from cmskb.content.loader import load_content
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from playwright.sync_api import Browser
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
    "/forms/feedback/",
    "/forms/docs-request/",
    "/forms/status/",
]


def _violations(results: dict[str, object]) -> list[str]:
    found = []
    for violation in results["violations"]:  # type: ignore[union-attr]
        if violation["impact"] in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
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
        page.goto(_a_question() if path == "question" else path)
        page.wait_for_load_state("networkidle")
        results = Axe().run(page).response
        assert results["passes"] or results["violations"] is not None
        problems = _violations(results)
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
        ids = {v["id"] for v in Axe().run(page).response["violations"]}
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
        results = Axe().run(page).response
        problems = _violations(results)
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
        problems = _violations(Axe().run(page).response)
        assert not problems, "\n".join(problems)
    finally:
        close_page(page)
