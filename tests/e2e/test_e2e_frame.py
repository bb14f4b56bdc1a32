"""The forms' pages wear the site's own frame, in a real browser, on both builds.

Each customer page of the sidecar (the three form pages, status, receipt) and each error
page (400, 404, 413, 429, 503 of the app; nginx's own 413 and 503 pages in the built site)
has the same header, tabs, search box, footer, favicon and scripts as a site page; the
search answers from a form page; at 375 px the tabs do not wrap and the drawer opens; the
必須 badge stays on its label's line; the palette toggle works. No console error (a script
blocked by the page's Content-Security-Policy is one), no failed request but the page's own
error status.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_forms import fill_feedback, receipt_of, submit
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from frame_pages import ERROR_STATES, STATIC_ERRORS, error_pages
from playwright.sync_api import Browser, Page, Response, Route, expect
from product_fixtures import Product, close_page, new_page, screenshot
from search_browser import run_search

pytestmark = [pytest.mark.browser, pytest.mark.service, pytest.mark.slow]

SITE_PAGE = "/support/"
FORM_PAGES = ["/forms/", "/forms/feedback/", "/forms/docs-request/", "/forms/status/"]
# What a page's frame is made of, read the same way on a site page and on a form page.
FRAME_PARTS = """() => {
  const path = (u) => new URL(u, location.href).pathname;
  const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
  return {
    logo: all('.md-header .md-logo', (a) => path(a.href)),
    siteName: document.querySelector('.md-header__topic .md-ellipsis')?.textContent.trim(),
    tabs: all('.md-tabs__link', (a) => [a.textContent.trim(), path(a.href)]),
    drawer: all('.md-nav--primary > .md-nav__list > .md-nav__item > a, '
      + '.md-nav--primary > .md-nav__list > .md-nav__item > .md-nav__container > a',
      (a) => [a.textContent.trim(), path(a.href)]),
    palette: all('[data-md-component=palette] input', (i) => i.getAttribute('aria-label')),
    search: all('input.md-search__input', (i) => i.getAttribute('placeholder')),
    footer: document.querySelector('.md-footer-meta')?.textContent.replace(/\\s+/g, ' ').trim(),
    icon: all('link[rel=icon]', (l) => path(l.href)),
    styles: all('link[rel=stylesheet]', (l) => path(l.href))
      .filter((p) => !p.startsWith('/forms/')),
    // the frame's scripts; a page's own (in its content, e.g. the forms' suggestions) aside
    scripts: all('script[src]', (s) => s.closest('#kb-content') ? null : path(s.src))
      .filter((p) => p !== null),
  };
}"""


def _watch(page: Page) -> list[str]:
    """Console errors and failed requests of `page` (the document's own status excepted)."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
    )

    def response(r: Response) -> None:
        if r.status >= 400 and r.request.resource_type != "document":
            problems.append(f"HTTP {r.status} {r.url}")

    page.on("response", response)
    return problems


def _ignore_document_status(problems: list[str]) -> list[str]:
    # Chromium logs a document answered with 4xx/5xx as "Failed to load resource" too.
    return [p for p in problems if "the server responded with a status of" not in p]


@pytest.fixture(scope="module")
def site_frame_parts(browser: Browser, product: Product) -> dict[str, Any]:
    page = new_page(browser, product)
    try:
        page.goto(SITE_PAGE)
        parts: dict[str, Any] = page.evaluate(FRAME_PARTS)
    finally:
        close_page(page)
    assert parts["tabs"] and parts["search"] and parts["footer"] and parts["icon"], parts
    return parts


@pytest.fixture(scope="module")
def app_errors(
    built_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str]]:
    return error_pages(built_site, tmp_path_factory.mktemp("frame-errors"))


@pytest.fixture
def frame_page(browser: Browser, product: Product) -> Iterator[tuple[Page, list[str]]]:
    page = new_page(browser, product)
    problems = _watch(page)
    yield page, problems
    close_page(page)


def _assert_same_frame(page: Page, site: dict[str, Any], problems: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    parts = page.evaluate(FRAME_PARTS)
    for key in ("logo", "siteName", "tabs", "drawer", "palette", "search", "footer", "icon",
                "scripts"):
        assert parts[key] == site[key], (key, parts[key], site[key])
    assert set(site["styles"]) <= set(parts["styles"]), (parts["styles"], site["styles"])
    active = page.locator(".md-tabs__item--active .md-tabs__link")
    expect(active).to_have_count(1)
    assert (active.get_attribute("href") or "").startswith("/forms/")
    assert not _ignore_document_status(problems), problems


@pytest.mark.parametrize("path", FORM_PAGES)
def test_form_pages_have_the_site_frame(
    frame_page: tuple[Page, list[str]], site_frame_parts: dict[str, Any], path: str
) -> None:
    page, problems = frame_page
    page.goto(path)
    _assert_same_frame(page, site_frame_parts, problems)


def test_receipt_page_has_the_site_frame(
    frame_page: tuple[Page, list[str]], site_frame_parts: dict[str, Any], product: Product
) -> None:
    page, problems = frame_page
    fill_feedback(page, product.support_id)
    submit(page)
    receipt_of(page)
    _assert_same_frame(page, site_frame_parts, problems)


@pytest.mark.parametrize("name", sorted(ERROR_STATES))
def test_error_pages_have_the_site_frame(
    frame_page: tuple[Page, list[str]],
    site_frame_parts: dict[str, Any],
    app_errors: dict[str, tuple[str, str]],
    product: Product,
    name: str,
) -> None:
    page, problems = frame_page
    path, html = app_errors[name]
    status = ERROR_STATES[name][1]
    url = product.url("/forms" + path)

    def fulfill(route: Route) -> None:
        route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8")

    # The app's page as rendered with the built frame, at its own address on the product
    # (so every asset comes from the product); 400 and 404 are also asked of the server.
    if status in (400, 404):
        response = page.goto(url)
        assert response is not None and response.status == status
    else:
        page.route(url, fulfill)
        page.goto(url)
    expect(page.locator("#kb-content h1")).to_be_visible()
    _assert_same_frame(page, site_frame_parts, problems)


@pytest.mark.parametrize("name", sorted(STATIC_ERRORS))
def test_nginx_error_pages_have_the_site_frame(
    frame_page: tuple[Page, list[str]], site_frame_parts: dict[str, Any], name: str
) -> None:
    page, problems = frame_page
    page.goto(STATIC_ERRORS[name])
    expect(page.locator("#kb-content h1")).to_be_visible()
    _assert_same_frame(page, site_frame_parts, problems)


def test_favicon_is_the_sites_and_loads(frame_page: tuple[Page, list[str]]) -> None:
    page, problems = frame_page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/forms/feedback/")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and icon.startswith("/assets/"), icon
    answer = page.request.get(icon)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/")
    assert not [u for u in requested if u.endswith("/favicon.ico")], requested
    assert not _ignore_document_status(problems), problems


@pytest.mark.parametrize("width", [1366, 375])
def test_search_answers_on_a_form_page(browser: Browser, product: Product, width: int) -> None:
    page = new_page(browser, product, width=width, height=812 if width < 500 else 900)
    problems = _watch(page)
    try:
        page.goto("/forms/docs-request/")
        if width < 500:  # phones: the header's magnifier opens the search first
            page.locator("label.md-header__button[for='__search']").first.click()
        assert "/faq/support-id/" in run_search(page, "サポートID")[:3]
        screenshot(page, f"frame-search-{width}")
        assert not _ignore_document_status(problems), problems
    finally:
        close_page(page)


def test_phone_tabs_do_not_wrap_and_the_drawer_opens(browser: Browser, product: Product) -> None:
    page = new_page(browser, product, width=375, height=812)
    try:
        page.goto(SITE_PAGE)
        site_tabs = page.locator(".md-tabs").is_visible()
        page.goto("/forms/feedback/")
        tabs = page.locator(".md-tabs")
        assert tabs.is_visible() == site_tabs  # Material hides the tabs on phones
        if site_tabs:
            box = tabs.bounding_box()
            assert box is not None and box["height"] < 60, box
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.locator("label.md-header__button[for='__drawer']").click()
        drawer = page.locator(".md-nav--primary")
        expect(drawer.get_by_role("link", name="よくあるご質問").first).to_be_visible()
        screenshot(page, "frame-drawer-375")
    finally:
        close_page(page)


BADGE_ON_LABEL_LINE = """() => [...document.querySelectorAll('.field .badge')].map((badge) => {
  const owner = badge.parentElement;
  const label = owner.querySelector('label') || owner;
  const range = document.createRange();
  range.selectNodeContents(label.firstChild);
  const rects = [...range.getClientRects()];
  const text = rects[rects.length - 1];
  const b = badge.getBoundingClientRect();
  return [owner.textContent, Math.abs((text.top + text.bottom) / 2 - (b.top + b.bottom) / 2),
          text.height];
})"""


@pytest.mark.parametrize("width", [1366, 375])
def test_required_badge_stays_on_its_labels_line(
    browser: Browser, product: Product, width: int
) -> None:
    page = new_page(browser, product, width=width)
    try:
        for path in ("/forms/feedback/", "/forms/docs-request/"):
            page.goto(path)
            found = page.evaluate(BADGE_ON_LABEL_LINE)
            assert found, path
            off = [(label, gap) for label, gap, height in found if gap > height / 2]
            assert not off, (path, off)
    finally:
        close_page(page)


def test_palette_toggle_switches_and_is_kept(browser: Browser, product: Product) -> None:
    page = new_page(browser, product, color_scheme="light")
    try:
        page.goto("/forms/status/")
        body = page.locator("body")
        expect(body).to_have_attribute("data-md-color-scheme", "default")
        page.locator("[data-md-component=palette] label:visible").first.click()
        expect(body).to_have_attribute("data-md-color-scheme", "slate")
        page.goto(SITE_PAGE)  # the choice is the site's: kept on a site page
        expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
    finally:
        close_page(page)
