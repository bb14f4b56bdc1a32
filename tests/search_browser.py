"""Searching the site as a reader does, through Material's header search box, in Playwright.

Material runs its query on `keyup`; Japanese text filled by Playwright arrives with no key
events (as from an IME), so each query ends with an `End` key press, as a person's IME
would end with a key. Results are read from Material's result list once its counter
answers. Shared by tests/e2e/test_e2e_search.py and bench/bench_search.py, with the query
set they share (tests/search_queries.yml).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml
from playwright.sync_api import Page

QUERIES = Path(__file__).with_name("search_queries.yml")
IDLE = "検索キーワードを入力してください"
NONE = "該当するページが見つかりませんでした"
MATERIAL_NONE = "何も見つかりませんでした"
META = ".md-search-result__meta"
RESULT_LINKS = ".md-search-result__list > .md-search-result__item > a"


def load_cases(path: Path = QUERIES) -> list[tuple[str, str, str]]:
    """(kind, query, expected page) of every query in the shared set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(kind, query, page) for kind, rows in data.items() for query, page in rows]


def open_search(page: Page) -> None:
    box = page.locator("input.md-search__input")
    if not box.is_visible():
        # Material, narrow screens: the magnifier opens the search; the Zensical build: its
        # header's search button (wide) or the magnifier (narrow)
        opener = "label.md-header__button[for='__search'], button.md-search__button"
        page.locator(opener).locator("visible=true").first.click()
    box.click()


def type_query(page: Page, query: str) -> None:
    """Clear the box (and wait for the idle counter), then type `query`."""
    open_search(page)
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")
    page.wait_for_function(
        "([sel, idle]) => document.querySelector(sel)?.textContent.includes(idle)",
        arg=[META, IDLE],
    )
    box.fill(query)
    box.press("End")


def wait_for_answer(page: Page, timeout: float = 15_000) -> None:
    """Wait until Material's counter reports results ("6件見つかりました") or none."""
    page.wait_for_function(
        "([sel, nones]) => { const t = document.querySelector(sel)?.textContent ?? '';"
        " return t.includes('見つかりました') || nones.some(n => t.includes(n)); }",
        arg=[META, [NONE, MATERIAL_NONE]],
        timeout=timeout,
    )


def result_pages(page: Page) -> list[str]:
    """The result list's pages, in order, each once."""
    hrefs = page.eval_on_selector_all(RESULT_LINKS, "links => links.map(a => a.href)")
    pages: list[str] = []
    for href in hrefs:
        path = urlsplit(href).path
        if path not in pages:
            pages.append(path)
    return pages


def run_search(page: Page, query: str) -> list[str]:
    """Type `query` into the header search; the result pages, in order, each once."""
    type_query(page, query)
    wait_for_answer(page)
    return result_pages(page)
