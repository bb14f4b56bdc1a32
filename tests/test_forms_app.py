"""The public forms: pages, validation, support IDs, CSRF, body size, honeypot, outages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from forms_helpers import (
    add_support_id,
    count_rows,
    csrf_from,
    csrf_token,
    docs_data,
    engine_of,
    feedback_data,
    make_app,
    receipt_on_thanks,
)
from sqlalchemy import select

from forms_app.storage.schema import request_history, requests

VALID_ID = "CK-2024-AB12-XY34"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, SITE_URL="https://support.cmskit.example")
    add_support_id(engine_of(app), VALID_ID)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def count_requests(app: Flask) -> int:
    return count_rows(engine_of(app))


def error_of(html: str, field_id: str) -> str:
    """The error text tied to `field_id` by aria-describedby (empty if none)."""
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    if not match:
        return ""
    tag = re.search(rf'<(?:input|textarea|select|fieldset)[^>]*id="{field_id}"[^>]*>', html)
    assert tag and f"{field_id}-error" in tag.group(0), f"{field_id} not tied to its error"
    text = re.sub(r"<[^>]+>", "", match.group(1)).strip()
    assert text.startswith("エラー:")  # announced as an error by screen readers
    return text.removeprefix("エラー:")


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("path", ["/", "/feedback/", "/docs-request/", "/status/"])
def test_pages_are_japanese_with_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert '<a class="md-header__title" href="/">CMSKIT サポート</a>' in html
    assert 'href="/faq/"' in html and 'href="/plans/"' in html
    # scripts only from our own files (the policy allows none inline): the site build's
    # suggestions script
    suggest = '<script src="/assets/javascripts/kb-suggest.js" defer></script>'
    for tag in re.findall(r"<script\b[^>]*>(?:[^<]*)</script>", html):
        assert tag == suggest
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_form_pages_state_eligibility_and_no_individual_answer(client: FlaskClient) -> None:
    for path in ("/feedback/", "/docs-request/"):
        html = client.get(path).get_data(as_text=True)
        assert "サポートID" in html
        assert "パートナー様" in html
        assert "個別のご回答" in html


def test_only_the_empty_forms_are_for_search_engines(client: FlaskClient) -> None:
    """The two forms, as first shown, may be found from a search engine (with a description);
    re-rendered with errors, and every other page, they say noindex."""
    noindex = '<meta name="robots" content="noindex">'
    for path in ("/feedback/", "/docs-request/"):
        html = client.get(path).get_data(as_text=True)
        assert noindex not in html
        assert re.search(r'<meta name="description" content="[^"]*フォームです。', html)
        refused = client.post(path, data={})
        assert noindex in refused.get_data(as_text=True)
    for path in ("/", "/status/"):
        assert noindex in client.get(path).get_data(as_text=True)


def test_products_come_from_site_yml(client: FlaskClient) -> None:
    html = client.get("/feedback/").get_data(as_text=True)
    names = ("CMSKITクラウド", "CMSKIT-ASP", "ウェブキャンバス", "導入型(無期限)", "導入型(年間)")
    for name in names:
        assert name in html


def test_static_css_is_served_under_forms(client: FlaskClient) -> None:
    html = client.get("/feedback/").get_data(as_text=True)
    assert 'href="/forms/static/forms.css"' in html
    with client.get("/static/forms.css") as css:
        assert css.status_code == 200
        assert "--md-primary-fg-color: #4051b5" in css.get_data(as_text=True)


# ---------------------------------------------------------------- success


def test_feedback_submit_stores_request_and_history(app: Flask, client: FlaskClient) -> None:
    data = feedback_data(VALID_ID, contact_email="taro@example.jp")
    response = client.post("/feedback/", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/forms/thanks/"
    receipt = receipt_on_thanks(client)
    group = "[0-9A-HJKMNP-TV-Z]{4}"
    assert re.fullmatch(f"{group}-{group}-{group}", receipt)
    with engine_of(app).connect() as conn:
        row = conn.execute(select(requests).where(requests.c.receipt == receipt)).one()
        history = conn.execute(
            select(request_history).where(request_history.c.request_id == row.id)
        ).all()
    assert (row.form, row.status, row.product) == ("feedback", "received", "cloud")
    assert row.title == data["title"]
    assert row.body == data["description"]
    assert row.contact_email == "taro@example.jp"
    assert row.client_addr == "127.0.0.1"
    assert row.fields["steps"] == data["steps"].replace("\r\n", "\n")
    assert row.fields["kind"] == "problem"
    # Never the support ID itself, never the honeypot or the e-mail in the JSON.
    assert VALID_ID not in str(row.fields) and "support_id" not in row.fields
    assert "contact_email" not in row.fields
    assert len(row.support_id_hash) == 64 and VALID_ID not in row.support_id_hash
    assert [(h.action, h.to_status, h.actor) for h in history] == [
        ("submitted", "received", "requester")
    ]


def test_thanks_page_says_what_happens_next(client: FlaskClient) -> None:
    client.post("/feedback/", data=feedback_data(VALID_ID))
    html = client.get("/thanks/").get_data(as_text=True)
    assert "個別のご回答はお送りしていません" in html
    receipt = receipt_on_thanks(client)
    assert f"/forms/status/?receipt={receipt}" in html


def test_thanks_without_a_submission_redirects(client: FlaskClient) -> None:
    assert client.get("/thanks/").status_code == 302


def test_docs_request_uses_the_ids_product_and_a_title(app: Flask, client: FlaskClient) -> None:
    add_support_id(engine_of(app), "ASP-0001", product="asp")
    data = docs_data("asp-0001", page_url="https://support.cmskit.example/faq/x/")
    assert client.post("/docs-request/", data=data).status_code == 303
    with engine_of(app).connect() as conn:
        row = conn.execute(select(requests)).one()
    assert (row.form, row.product) == ("docs", "asp")
    assert row.title == data["missing"]
    assert row.fields["target"] == "faq"
    assert row.fields["page_url"] == "https://support.cmskit.example/faq/x/"


def test_full_width_valid_id_is_accepted(client: FlaskClient) -> None:
    typed = " ｃｋ－２０２４ーＡＢ１２‐ｘｙ３４ "
    assert client.post("/feedback/", data=feedback_data(typed)).status_code == 303


# ---------------------------------------------------------------- wrong support IDs


def _expired_and_revoked(app: Flask) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=2)
    add_support_id(engine_of(app), "OLD-0001", expires_on=yesterday)
    add_support_id(engine_of(app), "GONE-0001", revoked=True)


@pytest.mark.parametrize(
    "typed",
    [
        "CK-9999-9999-9999",  # unknown
        "OLD-0001",  # expired
        "GONE-0001",  # revoked
        "' OR '1'='1' --",  # SQL-looking
        "CK-2024-AB12-XY35",  # one character off
        "<script>alert(1)</script>",
    ],
)
def test_wrong_ids_get_one_message_and_keep_input(
    app: Flask, client: FlaskClient, typed: str
) -> None:
    _expired_and_revoked(app)
    data = feedback_data(typed, title="残しておくべき件名")
    response = client.post("/feedback/", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_of(html, "support_id").startswith("このサポートIDではご利用いただけません")
    assert 'value="残しておくべき件名"' in html
    assert "記事一覧で並び順を変更して保存しても" in html
    assert "<script>alert(1)</script>" not in html
    assert count_requests(app) == 0


def test_unknown_expired_revoked_messages_are_identical(app: Flask, client: FlaskClient) -> None:
    _expired_and_revoked(app)
    pages = [
        client.post("/feedback/", data=feedback_data(t)).get_data(as_text=True)
        for t in ("NOPE-0001", "OLD-0001", "GONE-0001")
    ]
    messages = {error_of(html, "support_id") for html in pages}
    assert len(messages) == 1


def test_empty_id(app: Flask, client: FlaskClient) -> None:
    html = client.post("/feedback/", data=feedback_data("  ")).get_data(as_text=True)
    assert error_of(html, "support_id") == "サポートIDを入力してください。"
    assert count_requests(app) == 0


def test_huge_id(app: Flask, client: FlaskClient) -> None:
    response = client.post("/feedback/", data=feedback_data("A" * 5000))
    assert response.status_code == 400
    assert "100文字以内" in error_of(response.get_data(as_text=True), "support_id")
    assert count_requests(app) == 0


# ---------------------------------------------------------------- fields


def test_missing_fields_each_get_an_error_beside_them(app: Flask, client: FlaskClient) -> None:
    data = feedback_data(VALID_ID, title="", steps="", expected="", product="")
    response = client.post("/feedback/", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "件名を入力してください" in error_of(html, "title")
    assert "再現手順" in error_of(html, "steps")
    assert "期待した結果" in error_of(html, "expected")
    assert "製品を選んでください" in error_of(html, "product")
    assert error_of(html, "actual") == ""
    assert 'class="error-summary" role="alert"' in html
    assert 'href="#title"' in html
    assert count_requests(app) == 0


def test_request_kind_does_not_need_problem_fields(client: FlaskClient) -> None:
    data = feedback_data(VALID_ID, kind="request", steps="", expected="", actual="")
    assert client.post("/feedback/", data=data).status_code == 303


def test_unknown_product_and_kind_are_refused(client: FlaskClient) -> None:
    html = client.post(
        "/feedback/", data=feedback_data(VALID_ID, product="nope", kind="hack")
    ).get_data(as_text=True)
    assert error_of(html, "product") and error_of(html, "kind")


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 100), ("version", 40), ("description", 2000), ("steps", 2000), ("environment", 500)],
)
def test_field_limits(app: Flask, client: FlaskClient, field: str, limit: int) -> None:
    at_limit = client.post("/feedback/", data=feedback_data(VALID_ID, **{field: "あ" * limit}))
    assert at_limit.status_code == 303
    over = client.post("/feedback/", data=feedback_data(VALID_ID, **{field: "い" * (limit + 1)}))
    html = over.get_data(as_text=True)
    assert over.status_code == 400
    assert f"{limit:,}文字以内" in error_of(html, field)
    assert "い" * (limit + 1) in html  # the text is kept, not cut
    assert count_requests(app) == 1


def test_every_field_at_its_limit_fits_the_body_limit(client: FlaskClient) -> None:
    data = feedback_data(
        VALID_ID,
        contact_email="a" * 240 + "@example.jp",
        version="版" * 40,
        title="題" * 100,
        description="説" * 2000,
        steps="手" * 2000,
        expected="期" * 1000,
        actual="実" * 1000,
        environment="環" * 500,
    )
    assert client.post("/feedback/", data=data).status_code == 303


def test_control_characters_are_refused(client: FlaskClient) -> None:
    html = client.post(
        "/feedback/", data=feedback_data(VALID_ID, title="abc\x00def")
    ).get_data(as_text=True)
    assert "制御文字" in error_of(html, "title")


def test_email_shape(client: FlaskClient) -> None:
    html = client.post(
        "/feedback/", data=feedback_data(VALID_ID, contact_email="not an address")
    ).get_data(as_text=True)
    assert "メールアドレス" in error_of(html, "contact_email")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("/faq/install-requirements/", True),
        ("https://support.cmskit.example/plans/", True),
        ("http://support.cmskit.example/faq/", True),
        # the host the form was served from counts for nothing: a client chooses it
        ("http://localhost/faq/", False),
        ("https://evil.example/faq/", False),
        ("//evil.example/faq/", False),
        ("/\\evil.example/", False),
        ("javascript:alert(1)", False),
        ("faq/relative", False),
    ],
)
def test_page_url_must_be_our_site(client: FlaskClient, url: str, ok: bool) -> None:
    response = client.post("/docs-request/", data=docs_data(VALID_ID, page_url=url))
    assert (response.status_code == 303) is ok
    if not ok:
        assert "このサイトのページ" in error_of(response.get_data(as_text=True), "page_url")


# ---------------------------------------------------------------- abuse


def test_honeypot(app: Flask, client: FlaskClient) -> None:
    response = client.post("/feedback/", data=feedback_data(VALID_ID, website="http://spam"))
    assert response.status_code == 400
    assert "ウェブサイト" in response.get_data(as_text=True)
    assert count_requests(app) == 0


def test_oversized_body_gets_japanese_413(app: Flask, client: FlaskClient) -> None:
    response = client.post("/feedback/", data=feedback_data(VALID_ID, description="x" * 200_000))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert '<html lang="ja">' in html and "大きすぎ" in html
    assert count_requests(app) == 0


@pytest.fixture
def csrf_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_support_id(engine_of(app), VALID_ID)
    return app


def test_csrf_missing_token_keeps_input(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    client.get("/feedback/")
    response = client.post("/feedback/", data=feedback_data(VALID_ID, title="消えない件名"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "ページの有効期限が切れたか" in html
    assert 'value="消えない件名"' in html
    # A fresh token is on the page, so pressing 送信 again works.
    again = client.post("/feedback/", data=feedback_data(VALID_ID, csrf_token=csrf_from(html)))
    assert again.status_code == 303
    assert count_requests(csrf_app) == 1


def test_csrf_forged_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    token = csrf_token(client, "/feedback/")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.post("/feedback/", data=feedback_data(VALID_ID, csrf_token=forged))
    assert response.status_code == 400
    # A token from another session (another browser) is refused too.
    other = csrf_app.test_client()
    stolen = csrf_token(other, "/feedback/")
    fresh = csrf_app.test_client()
    fresh.get("/feedback/")
    replayed = fresh.post("/feedback/", data=feedback_data(VALID_ID, csrf_token=stolen))
    assert replayed.status_code == 400
    assert count_requests(csrf_app) == 0


def test_csrf_https_needs_same_origin_referer(csrf_app: Flask) -> None:
    """Referrer-Policy same-origin sends this Referer; Flask-WTF's HTTPS check needs it."""
    client = csrf_app.test_client()
    base = "https://localhost/forms"
    html = client.get("/feedback/", base_url=base).get_data(as_text=True)
    data = feedback_data(VALID_ID, csrf_token=csrf_from(html))
    no_referer = client.post("/feedback/", base_url=base, data=data)
    assert no_referer.status_code == 400
    other_site = client.post(
        "/feedback/", base_url=base, data=data, headers={"Referer": "https://evil.example/"}
    )
    assert other_site.status_code == 400
    ok = client.post(
        "/feedback/", base_url=base, data=data,
        headers={"Referer": "https://localhost/forms/feedback/"},
    )
    assert ok.status_code == 303


def test_session_cookie_is_scoped(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    response = client.get("/feedback/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cmskit_forms_session=")
    assert "Path=/forms" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_outside_development(tmp_path: Path) -> None:
    make_app(tmp_path)  # testing migrates the file; production would refuse an empty one
    app = make_app(tmp_path, ENV="production", SESSION_COOKIE_SECURE=None, WTF_CSRF_ENABLED=True)
    cookie = app.test_client().get("/feedback/").headers["Set-Cookie"]
    assert "; Secure" in cookie


# ---------------------------------------------------------------- outages


def test_database_down_gives_503_and_keeps_input(tmp_path: Path) -> None:
    app = make_app(tmp_path, DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    client = app.test_client()
    response = client.post("/feedback/", data=feedback_data(VALID_ID, title="あとで再送"))
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "もう一度「送信する」を押してください" in html
    assert 'value="あとで再送"' in html
    assert "受付番号" not in html
    assert client.get("/thanks/").status_code == 302


def test_failure_inside_the_transaction_stores_nothing(tmp_path: Path) -> None:
    """The request row is inserted, then the outbox insert really fails: no row, no receipt."""
    app = make_app(tmp_path, NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/hook")
    add_support_id(engine_of(app), VALID_ID)
    with engine_of(app).begin() as conn:
        conn.exec_driver_sql("DROP TABLE outbox")  # the last statement of a submit now fails
    client = app.test_client()
    response = client.post("/feedback/", data=feedback_data(VALID_ID, title="失敗しても残る"))
    assert response.status_code == 503
    assert 'value="失敗しても残る"' in response.get_data(as_text=True)
    assert count_requests(app) == 0
    assert count_rows(engine_of(app), request_history) == 0
    assert client.get("/thanks/").status_code == 302


# ---------------------------------------------------------------- status page


def test_status_page_shows_status_and_date_only(app: Flask, client: FlaskClient) -> None:
    client.post("/feedback/", data=feedback_data(VALID_ID, title="秘密の件名"))
    receipt = receipt_on_thanks(client)
    typed = receipt.lower().replace("-", " ").replace("1", "l")
    response = client.get("/status/", query_string={"receipt": typed})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "受付済み" in html and receipt in html
    assert "秘密の件名" not in html and "並び順" not in html
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=9)))
    today = f"{now.year}年{now.month}月{now.day}日"  # as the site writes dates: no zero
    assert today in html
    with engine_of(app).begin() as conn:
        conn.execute(requests.update().values(status="published"))
    assert "公開済み" in client.get("/status/", query_string={"receipt": receipt}).get_data(
        as_text=True
    )


@pytest.mark.parametrize(("typed", "code"), [("", 400), ("abc", 400), ("K7QM-3XAD-9PRT", 404)])
def test_status_page_errors(client: FlaskClient, typed: str, code: int) -> None:
    response = client.get("/status/", query_string={"receipt": typed})
    assert response.status_code == code
    assert error_of(response.get_data(as_text=True), "receipt")


def test_not_found_page_is_japanese(client: FlaskClient) -> None:
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)
