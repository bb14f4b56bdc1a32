"""The customer pages' frame (cmskb.frame, forms_app.frame) on the built site of each builder.

The build makes a frame page out of sight (noindex, not in the navigation, the sitemap or
the search index) and nginx's own error pages from it; the sidecar renders its pages in it
with every address absolute, its title, the CSP hashes of exactly its inline scripts, the
hint links and examples it carries (real pages, checked at start); a missing or broken
frame stops a production start; a new build is picked up without a restart. Dates read as
on the site; Japanese text gets no spaces from template line breaks.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from cmskb.formats import date_ja, number_ja
from cmskb.frame import (
    FRAME_FILE,
    STATIC_ERROR_PAGES,
    SUPPORT_ID_QUESTION,
    FrameError,
    parse_frame,
    read_frame,
)
from cmskb.search.site import _pages as indexed_pages
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from flask.testing import FlaskClient
from forms_helpers import add_support_id, docs_data, engine_of, feedback_data, make_app
from product_fixtures import ROOT

from forms_app import ConfigError, create_app
from forms_app.public.views import WRONG_ID
from forms_app.timeutil import local_date_text

JP = r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]"
# A line break between two Japanese characters, or between one and an inline tag: shown as
# a space by the browser.
STRAY_BREAK = re.compile(
    rf"{JP}[ \t]*\n\s*(?:{JP}|<(?:a|strong|em|span)\b)|</(?:a|strong|em|span)>[ \t]*\n\s*{JP}"
)
_URL_ATTRIBUTE = re.compile(r'\s(?:href|src|action|data-kb-worker)="([^"]*)"')
VALID_ID = "CK-FRAME-0001"


def _client(site: Path, tmp_path: Path, **config: object) -> FlaskClient:
    return make_app(tmp_path, SITE_DIR=str(site), **config).test_client()


def _copy(site: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    return copy


# --- the build ---------------------------------------------------------------------------


def test_frame_page_is_out_of_sight(built_site: Path) -> None:
    html = (built_site / FRAME_FILE).read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex">' in html
    assert "site-frame" not in (built_site / "sitemap.xml").read_text(encoding="utf-8")
    indexed = {text.url for text in indexed_pages(built_site, ())}
    assert indexed and not [u for u in indexed if u.startswith(("site-frame", "errors"))]
    frame = read_frame(built_site)
    chrome = "".join(frame.top) + frame.bottom
    assert "/site-frame/" not in chrome  # in no tab, drawer or footer link


def test_build_writes_nginx_error_pages_in_the_frame(built_site: Path) -> None:
    for page in STATIC_ERROR_PAGES:
        html = (built_site / "errors" / page.file).read_text(encoding="utf-8")
        assert f"<title>{page.title} - CMSKIT サポート</title>" in html
        assert 'class="md-header"' in html and "md-search__input" in html
        assert all(url.startswith(("/", "#", "https:")) for url in _URL_ATTRIBUTE.findall(html))


def test_frame_makes_every_address_absolute_and_keeps_search_working(built_site: Path) -> None:
    frame = read_frame(built_site, section="/forms/")
    html = frame.page("テスト", "<h1>テスト</h1>")
    relative = [u for u in _URL_ATTRIBUTE.findall(html) if not u.startswith(("/", "#", "https:"))]
    assert not relative
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>', html)
    if config is not None:  # Material's dialog (MkDocs build): its worker and base
        assert '"base":"/"' in config.group(1) and '"search":"/assets/' in config.group(1)
    assert 'new URL("/",location)' in html  # the palette is kept per site, not per page
    assert "<title>テスト - CMSKIT サポート</title>" in html
    assert 'rel="canonical"' not in html
    assert html.count("md-tabs__item--active") == 1


def test_frame_links_are_real_questions_from_content(built_site: Path) -> None:
    links = read_frame(built_site).links
    questions = {q.id for q in load_content(ROOT / "content").published_questions}
    assert links["support_id"] == f"/faq/{SUPPORT_ID_QUESTION}/"
    for url in links.values():
        assert url.strip("/").removeprefix("faq/") in questions, url
        assert (built_site / url.strip("/") / "index.html").is_file(), url


def test_a_page_without_markers_is_no_frame() -> None:
    with pytest.raises(FrameError, match="content markers"):
        parse_frame("<!doctype html><html><head></head><body><h1>x</h1></body></html>")


# --- the sidecar's pages -----------------------------------------------------------------


def test_form_page_is_in_the_frame_with_its_scripts_allowed_by_hash(
    built_site: Path, tmp_path: Path
) -> None:
    response = _client(built_site, tmp_path).get("/feedback/")
    html = response.get_data(as_text=True)
    assert "<title>機能要望・問題報告 - CMSKIT サポート</title>" in html
    assert 'class="md-header"' in html and "md-search__input" in html
    assert 'href="/forms/static/kb-forms.css"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    frame = read_frame(built_site)
    assert frame.script_hashes
    for source in frame.script_hashes:
        assert source in csp
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) == len(frame.script_hashes)
    # The drawer shows this page as the current one, as the site's pages do theirs.
    assert re.search(
        r'<a href="/forms/feedback/" class="md-nav__link md-nav__link--active" '
        r'aria-current="page">', html
    )


def test_hints_link_the_support_id_question_and_show_a_real_example(
    built_site: Path, tmp_path: Path
) -> None:
    client = _client(built_site, tmp_path)
    links = read_frame(built_site).links
    docs = client.get("/docs-request/").get_data(as_text=True)
    hint = re.search(r'<p class="hint" id="support_id-hint">(.*?)</p>', docs, re.S)
    assert hint and f'<a href="{links["support_id"]}">' in hint.group(1)
    example = re.search(r'<p class="hint" id="page_url-hint">(.*?)</p>', docs, re.S)
    assert example and links["example"] in example.group(1)
    assert "install-requirements" not in docs
    feedback = client.get("/feedback/").get_data(as_text=True)
    version = re.search(r'<p class="hint" id="version-hint">(.*?)</p>', feedback, re.S)
    assert version and not re.search(r"\d", version.group(1))  # no invented version number
    # A wrong ID: the error links the same question; a foreign URL: the example is real.
    wrong = client.post(
        "/docs-request/", data=docs_data("WRONG-0000", page_url="https://evil.example/")
    ).get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="support_id-error">(.*?)</p>', wrong, re.S)
    assert error and WRONG_ID in error.group(1)
    assert f'<a href="{links["support_id"]}">' in error.group(1)
    assert f"(例: {links['example']})" in wrong


def test_customer_pages_have_no_stray_line_breaks_in_japanese(
    built_site: Path, tmp_path: Path
) -> None:
    client = _client(built_site, tmp_path)
    add_support_id(engine_of(client.application), VALID_ID)
    pages = {path: client.get(path) for path in ("/", "/feedback/", "/docs-request/", "/status/")}
    pages["errors"] = client.post("/feedback/", data=feedback_data("WRONG-0000", title=""))
    pages["404"] = client.get("/nowhere/")
    assert client.post("/feedback/", data=feedback_data(VALID_ID)).status_code == 303
    pages["thanks"] = client.get("/thanks/")
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        content = html[html.index('id="kb-content"'):]
        assert not STRAY_BREAK.findall(content), (name, STRAY_BREAK.findall(content))


# --- start and reload --------------------------------------------------------------------


def test_production_refuses_to_start_without_a_built_frame(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"CMSKIT_FORMS_SITE_DIR: no built frame .* Build"):
        make_app(tmp_path, ENV="production", SITE_DIR=str(tmp_path / "no-site"))


def test_production_refuses_a_frame_linking_missing_pages(built_site: Path, tmp_path: Path) -> None:
    site = _copy(built_site, tmp_path)
    shutil.rmtree(site / "faq" / SUPPORT_ID_QUESTION)
    with pytest.raises(ConfigError, match="/faq/support-id/"):
        make_app(tmp_path, ENV="production", SITE_DIR=str(site))


def test_development_falls_back_to_a_plain_frame_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="forms_app.frame"):
        client = _client(tmp_path / "no-site", tmp_path, ENV="development")
    assert "site frame not used" in caplog.text
    html = client.get("/feedback/").get_data(as_text=True)
    assert "<title>機能要望・問題報告 - CMSKIT サポート</title>" in html
    assert "サポートID" in html


def test_command_line_starts_without_a_built_site(tmp_path: Path) -> None:
    config = {"ENV": "production", "SECRET_KEY": "k" * 8 + "3f9a1c7e5b2d8f0a4c6e1b9d7f3a5c2e",
              "SUPPORT_ID_PEPPER": "p" * 8 + "9d3c7a1f5e2b8d0c6a4f1e9b3d7c5a2f",
              "DATABASE_URL": f"sqlite:///{tmp_path / 'q.sqlite3'}",
              "SITE_DIR": str(tmp_path / "no-site")}
    app = create_app(config, check_schema=False, check_frame=False)
    assert app.extensions["site_frame"].fallback


def test_a_new_build_reaches_the_pages_without_restart(built_site: Path, tmp_path: Path) -> None:
    site = _copy(built_site, tmp_path)
    client = _client(site, tmp_path)
    assert "お知らせ" in client.get("/status/").get_data(as_text=True)
    frame = site / FRAME_FILE
    changed = frame.read_text(encoding="utf-8").replace(">\n", ">\n<!-- rebuilt -->\n", 1)
    frame.write_text(changed.replace("お知らせ", "ニュース"), encoding="utf-8")
    later = os.stat(frame).st_mtime_ns + 5_000_000_000
    os.utime(frame, ns=(later, later))
    html = client.get("/status/").get_data(as_text=True)
    assert "ニュース" in html and "お知らせ" not in html
    # A build in progress (a broken or missing file): the last good frame stays.
    frame.write_text("<html>half written", encoding="utf-8")
    os.utime(frame, ns=(later + 10**9, later + 10**9))
    assert "ニュース" in client.get("/status/").get_data(as_text=True)
    frame.unlink()
    assert "ニュース" in client.get("/feedback/").get_data(as_text=True)


# --- dates and numbers -------------------------------------------------------------------


def test_one_date_format_without_zero_padding() -> None:
    assert date_ja(dt.date(2026, 12, 7)) == "2026年12月7日"
    late = dt.datetime(2026, 12, 6, 15, 30, tzinfo=dt.UTC)  # 00:30 on the 7th in Tokyo
    assert local_date_text(late, dt.timezone(dt.timedelta(hours=9))) == "2026年12月7日"
    assert local_date_text(None) == ""
    assert number_ja(128000) == "128,000"


def test_status_page_dates_read_as_the_sites(
    built_site: Path, tmp_path: Path
) -> None:
    client = _client(built_site, tmp_path)
    add_support_id(engine_of(client.application), VALID_ID)
    client.post("/feedback/", data=feedback_data(VALID_ID))
    receipt = re.search(r'receipt__number" lang="en">([^<]+)<', client.get("/thanks/").get_data(
        as_text=True))
    assert receipt
    html = client.get("/status/", query_string={"receipt": receipt.group(1)}).get_data(
        as_text=True)
    shown = re.findall(r"<dd>(\d{4}年\d{1,2}月\d{1,2}日)</dd>", html)
    assert len(shown) == 2 and not [d for d in shown if re.search(r"年0|月0", d)]
    question = (built_site / "faq" / SUPPORT_ID_QUESTION / "index.html").read_text("utf-8")
    site_date = re.search(r"<time datetime=\"[^\"]+\">(\d{4}年\d{1,2}月\d{1,2}日)</time>", question)
    assert site_date and not re.search(r"年0|月0", site_date.group(1))
