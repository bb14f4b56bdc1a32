"""The reviewers' web view: login, lockout, CSRF, escaping and every action."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import pytest
from content_helpers import copy_fixture
from flask import Flask
from flask.testing import FlaskClient
from forms_helpers import csrf_token, engine_of, make_app, session_cookie
from review_helpers import (
    PASSWORD,
    add_request,
    add_reviewer,
    live_markup,
    login,
    move_to,
)
from sqlalchemy import Engine

from forms_app.config import ConfigError
from forms_app.review import accounts, triage
from forms_app.storage.schema import requests

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(document.cookie)",
    '"><svg onload=alert(1)>',
    "<a href=\"javascript:alert(1)\">click</a>",
]


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path,
        WTF_CSRF_ENABLED=True,
        CONTENT_DIR=str(copy_fixture(tmp_path)),
        REVIEW_LOGIN_LIMIT="5 per 15 minutes",
    )


@pytest.fixture
def engine(app: Flask) -> Engine:
    return engine_of(app)


@pytest.fixture
def client(app: Flask, engine: Engine) -> FlaskClient:
    add_reviewer(engine, "sato")
    return app.test_client()


@pytest.fixture
def signed_in(client: FlaskClient) -> FlaskClient:
    response = login(client)
    assert response.status_code == 303
    return client


def _token(client: FlaskClient, path: str = "/review/") -> str:
    return csrf_token(client, path)


def test_pages_need_login(client: FlaskClient, engine: Engine) -> None:
    item = add_request(engine)
    for path in ("/review/", f"/review/requests/{item['id']}"):
        response = client.get(path)
        assert response.status_code == 303
        assert "/review/login" in response.headers["Location"]
    page = client.get("/review/login")
    assert page.status_code == 200
    assert "ログイン" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_login_list_detail_and_logout(client: FlaskClient, engine: Engine) -> None:
    item = add_request(engine, title="ログイン後に見える件名")
    response = login(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/review/")
    page = client.get("/review/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "ログイン後に見える件名" in html and "sato さん" in html
    detail = client.get(f"/review/requests/{item['id']}")
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "no-store"
    assert item["receipt"] in detail.get_data(as_text=True)
    assert client.get("/review/requests/99999").status_code == 404
    out = client.post("/review/logout", data={"csrf_token": _token(client)})
    assert out.status_code == 303
    assert client.get("/review/").status_code == 303


def test_login_returns_to_the_page_asked_for_but_never_elsewhere(
    client: FlaskClient, engine: Engine
) -> None:
    item = add_request(engine)
    token = _token(client, "/review/login")
    wanted = f"/review/requests/{item['id']}"
    response = client.post(
        "/review/login",
        data={"username": "sato", "password": PASSWORD, "csrf_token": token, "next": wanted},
    )
    assert response.headers["Location"].endswith(wanted)
    client.post("/review/logout", data={"csrf_token": _token(client)})
    for evil in ("https://evil.example/", "//evil.example/", "/feedback/"):
        token = _token(client, "/review/login")
        response = client.post(
            "/review/login",
            data={"username": "sato", "password": PASSWORD, "csrf_token": token, "next": evil},
        )
        assert response.headers["Location"].endswith("/review/"), evil
        client.post("/review/logout", data={"csrf_token": _token(client)})


def test_wrong_password_and_unknown_user_get_the_same_answer(client: FlaskClient) -> None:
    wrong = login(client, "sato", "wrong password here")
    unknown = login(client, "nobody", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "ユーザー名またはパスワードが違います。" in response.get_data(as_text=True)
    assert client.get("/review/").status_code == 303


def test_repeated_failures_lock_out_even_the_right_password(client: FlaskClient) -> None:
    for _ in range(5):
        assert login(client, "sato", "not the password").status_code == 401
    locked = login(client, "sato", PASSWORD)
    assert locked.status_code == 429
    assert "しばらくログインできません" in locked.get_data(as_text=True)
    assert client.get("/review/").status_code == 303


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failures_elsewhere_never_lock_out_a_client_that_has_not_failed(
    app: Flask, client: FlaskClient
) -> None:
    """Issue 14, point 3: counted per (username, client), not per username alone."""
    attacker = _from(app, "198.51.100.1")
    for _ in range(5):
        assert login(attacker, "sato", "guess").status_code == 401
    assert login(attacker, "sato", PASSWORD).status_code == 429  # that client is locked
    for i in range(2, 12):  # and many other addresses fail too
        assert login(_from(app, f"198.51.100.{i}"), "sato", "guess").status_code == 401
    assert login(_from(app, "203.0.113.9"), "sato", PASSWORD).status_code == 303


def test_guesses_per_username_are_capped_but_a_known_browser_still_gets_in(
    tmp_path: Path,
) -> None:
    app = make_app(
        tmp_path, CONTENT_DIR=str(copy_fixture(tmp_path)), REVIEW_LOGIN_USER_LIMIT="3 per day"
    )
    add_reviewer(engine_of(app), "sato")
    usual = _from(app, "203.0.113.20")
    assert login(usual, "sato", PASSWORD).status_code == 303  # gets the device cookie
    usual.post("/review/logout", data={"csrf_token": _token(usual)})
    codes = [login(_from(app, f"198.51.100.{i}"), "sato", "guess").status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]  # three guesses a day from untrusted clients
    refused = login(_from(app, "203.0.113.21"), "sato", PASSWORD)
    assert refused.status_code == 429
    assert "以前このユーザー名でログインした端末" in refused.get_data(as_text=True)
    # A made-up device cookie is no way around the cap.
    forged = _from(app, "203.0.113.23")
    forged.set_cookie("cmskit_review_device", "eyJ1Ijoic2F0byJ9.x.y", path="/review/")
    assert login(forged, "sato", PASSWORD).status_code == 429
    # The browser that signed in before is not an untrusted client: it still gets in.
    assert login(usual, "sato", PASSWORD).status_code == 303
    # Its cookie names the username it was issued for: it opens no other account's cap.
    add_reviewer(engine_of(app), "suzuki")
    assert login(_from(app, "203.0.113.22"), "suzuki", PASSWORD).status_code == 303


def test_session_expires_after_its_lifetime(app: Flask, signed_in: FlaskClient) -> None:
    assert signed_in.get("/review/").status_code == 200
    with signed_in.session_transaction() as session:
        hours = app.config["REVIEW_SESSION_HOURS"]
        session["review_since"] = int(time.time()) - hours * 3600 - 5
    assert signed_in.get("/review/").status_code == 303


def test_removed_account_loses_its_session(signed_in: FlaskClient, engine: Engine) -> None:
    from forms_app.review import accounts

    accounts.remove_reviewer(engine, "sato")
    assert signed_in.get("/review/").status_code == 303


def _actions(request_id: int) -> dict[str, dict[str, str]]:
    base = f"/review/requests/{request_id}"
    return {
        f"{base}/claim": {},
        f"{base}/release": {},
        f"{base}/status": {"status": "in_review", "comment": "x"},
        f"{base}/duplicate": {"of": "1"},
        f"{base}/publish": {"faq_id": "abc"},
        f"{base}/draft": {"category": "installation"},
        "/review/logout": {},
    }


@pytest.mark.parametrize("token", ["missing", "forged"])
def test_every_action_without_a_valid_csrf_token_is_rejected(
    signed_in: FlaskClient, engine: Engine, token: str
) -> None:
    item = add_request(engine)
    before = triage.get_history(engine, item["id"])
    for path, data in _actions(item["id"]).items():
        if token == "forged":
            data = {**data, "csrf_token": "IjAwMDAi.forged.token"}
        response = signed_in.post(path, data=data)
        assert response.status_code == 400, path
    assert triage.get_history(engine, item["id"]) == before
    assert triage.get_request(engine, item["id"])["claimed_by"] is None
    assert signed_in.get("/review/").status_code == 200  # logout did not happen either


def test_login_without_csrf_is_rejected(client: FlaskClient) -> None:
    response = client.post("/review/login", data={"username": "sato", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/review/").status_code == 303


def _post(client: FlaskClient, path: str, data: dict[str, str]) -> Any:
    request_page = path.rsplit("/", 1)[0]
    return client.post(path, data={**data, "csrf_token": _token(client, request_page)},
                       follow_redirects=True)


def test_actions_from_the_web(signed_in: FlaskClient, engine: Engine, app: Flask) -> None:
    other = add_request(engine, title="先に届いた要望")
    item = add_request(engine, form="docs", title="インストール手順を詳しく",
                       fields={"target": "faq", "page_url": "/faq/install-steps/",
                               "missing": "手順が足りない", "suggested": "手順1\n手順2"})
    base = f"/review/requests/{item['id']}"
    page = _post(signed_in, f"{base}/claim", {})
    assert "担当になりました。" in page.get_data(as_text=True)
    page = _post(signed_in, f"{base}/status", {"status": "accepted"})
    assert "から「採用」には変更できません" in page.get_data(as_text=True)
    _post(signed_in, f"{base}/status", {"status": "in_review", "comment": "見ます"})
    page = _post(signed_in, f"{base}/duplicate", {"of": other["receipt"]})
    assert "重複にしました。" in page.get_data(as_text=True)
    assert triage.get_request(engine, item["id"])["duplicate_of"] == other["id"]
    _post(signed_in, f"{base}/status", {"status": "in_review"})
    _post(signed_in, f"{base}/status", {"status": "accepted"})
    page = _post(signed_in, f"{base}/draft", {"category": ""})
    text = page.get_data(as_text=True)
    made = re.search(r"FAQの下書きを作りました: (faq/installation/faq-\d{8}-[a-z0-9]+\.yml)", text)
    assert made, text
    # A second click names the draft that exists and writes nothing.
    again = _post(signed_in, f"{base}/draft", {"category": ""}).get_data(as_text=True)
    assert f"このリクエストのFAQ下書きはすでにあります: {made.group(1)}" in again
    page = _post(signed_in, f"{base}/publish", {"faq_id": "install-details"})
    assert "公開済みにしました。" in page.get_data(as_text=True)
    page = _post(signed_in, f"{base}/release", {})
    assert "担当を外れました。" in page.get_data(as_text=True)
    row = triage.get_request(engine, item["id"])
    assert (row["status"], row["published_faq_id"], row["claimed_by"]) == (
        "published", "install-details", None,
    )
    actions = [(h["action"], h["actor"]) for h in triage.get_history(engine, item["id"])]
    assert ("draft_faq", "sato") in actions and actions[-1] == ("release", "sato")
    drafts = list((Path(app.config["CONTENT_DIR"]) / "faq" / "installation").glob("faq-*.yml"))
    assert [f"faq/installation/{d.name}" for d in drafts] == [made.group(1)]


def test_someone_elses_claim_blocks_web_actions(signed_in: FlaskClient, engine: Engine) -> None:
    item = add_request(engine)
    triage.claim(engine, item["id"], actor="suzuki")
    page = _post(signed_in, f"/review/requests/{item['id']}/status", {"status": "in_review"})
    assert "suzuki さんが担当しています" in page.get_data(as_text=True)
    assert triage.get_request(engine, item["id"])["status"] == "received"


def test_hostile_text_in_every_field_stays_inert(signed_in: FlaskClient, engine: Engine) -> None:
    evil = " ".join(HOSTILE)
    fields = {name: evil for name in ("kind", "version", "description", "steps", "expected",
                                      "actual", "environment", "page_url", "missing",
                                      "suggested")}
    fields["<b onmouseover=alert(1)>key</b>"] = evil
    item = add_request(engine, title=evil[:200], body=evil, fields=fields,
                       product="<script>p</script>", email="\"<script>\"@example.com")
    other = add_request(engine)
    move_to(engine, item["id"], "in_review")
    triage.set_status(engine, item["id"], "declined", actor="sato", comment=evil)
    pages = [
        signed_in.get("/review/").get_data(as_text=True),
        signed_in.get("/review/?q=" + "%3Cscript%3E").get_data(as_text=True),
        signed_in.get(f"/review/requests/{item['id']}").get_data(as_text=True),
        signed_in.get(f"/review/requests/{other['id']}").get_data(as_text=True),
        signed_in.get("/review/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&claimed_by=%3Cb%3E")
        .get_data(as_text=True),
    ]
    for html in pages:
        assert live_markup(html) == []
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in pages[2]
    assert "&lt;img src=x onerror=" in pages[2]
    assert "javascript:alert(document.cookie)" in pages[2]  # shown as text, not a link


def test_list_filters_from_the_query_string(signed_in: FlaskClient, engine: Engine) -> None:
    add_request(engine, title="検索される件名")
    add_request(engine, form="docs", title="別の件名")
    html = signed_in.get("/review/?q=検索&form=feedback&status=received").get_data(as_text=True)
    assert "検索される件名" in html and "別の件名" not in html
    bad = signed_in.get("/review/?from=2026-99-01")
    assert bad.status_code == 200
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)


def _replay(app: Flask, cookie: str) -> Any:
    other = app.test_client()
    other.set_cookie("cmskit_forms_session", cookie, path="/forms")
    return other.get("/review/")


def test_a_copied_cookie_dies_with_logout(signed_in: FlaskClient, app: Flask) -> None:
    copied = session_cookie(signed_in)
    assert _replay(app, copied).status_code == 200  # the copy works while signed in
    signed_in.post("/review/logout", data={"csrf_token": _token(signed_in)})
    replayed = _replay(app, copied)
    assert replayed.status_code == 303
    assert "/review/login" in replayed.headers["Location"]
    assert signed_in.get("/review/").status_code == 303


def test_password_change_and_removal_end_sessions(
    client: FlaskClient, app: Flask, engine: Engine
) -> None:
    assert login(client).status_code == 303
    copied = session_cookie(client)
    accounts.set_password(engine, "sato", "a brand new long password")
    assert _replay(app, copied).status_code == 303
    assert client.get("/review/").status_code == 303
    assert login(client, password="a brand new long password").status_code == 303
    copied = session_cookie(client)
    assert _replay(app, copied).status_code == 200
    accounts.remove_reviewer(engine, "sato")
    accounts.add_reviewer(engine, "sato", PASSWORD)  # same name, new account
    assert _replay(app, copied).status_code == 303


def test_login_starts_a_fresh_session(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["csrf_token"] = "planted-token-seed"
    assert login(client).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "planted-token-seed"
        assert session["review_user"] == "sato"


def test_fields_products_and_choices_are_shown_in_japanese(
    signed_in: FlaskClient, engine: Engine
) -> None:
    item = add_request(engine, fields={
        "kind": "problem", "product": "cloud", "version": "7.2", "title": "件名",
        "description": "内容です", "steps": "1. 開く", "expected": "開く", "actual": "開かない",
        "environment": "Chrome",
    })
    html = signed_in.get(f"/review/requests/{item['id']}").get_data(as_text=True)
    for label in ("ご連絡の種類", "製品", "バージョン", "再現手順", "期待した結果",
                  "実際の結果", "ブラウザ・動作環境"):
        assert f"<dt>{label}</dt>" in html, label
    assert ">問題報告<" in html and ">problem<" not in html
    assert "<dt>steps</dt>" not in html and "<dt>kind</dt>" not in html
    assert "<dd>CMSKITクラウド</dd>" in html and ">cloud<" not in html
    docs = add_request(engine, form="docs", product="asp", fields={
        "target": "faq", "page_url": "/faq/x/", "missing": "足りない", "suggested": "案",
    })
    html = signed_in.get(f"/review/requests/{docs['id']}").get_data(as_text=True)
    for label in ("ご要望の対象", "対象ページのURL", "不足している内容・わかりにくい点",
                  "記載してほしい内容"):
        assert f"<dt>{label}</dt>" in html, label
    assert ">FAQ(よくあるご質問)<" in html and "<dt>page_url</dt>" not in html
    listing = signed_in.get("/review/").get_data(as_text=True)
    cell = '<td data-label="製品">{}</td>'
    assert cell.format("CMSKITクラウド") in listing and cell.format("CMSKIT-ASP") in listing
    assert cell.format("cloud") not in listing and cell.format("asp") not in listing


def test_review_pages_answer_503_in_japanese_when_the_database_is_down(tmp_path: Path) -> None:
    closed = make_app(
        tmp_path,
        DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
        CONTENT_DIR=str(copy_fixture(tmp_path)),
    )
    client = closed.test_client()
    with client.session_transaction() as session:
        session.update(review_user="sato", review_since=int(time.time()), review_key="k" * 32)
    for response in (
        client.get("/review/"),
        client.get("/review/requests/1"),
        client.post("/review/login", data={"username": "sato", "password": PASSWORD}),
    ):
        html = response.get_data(as_text=True)
        assert response.status_code == 503, html[:300]
        assert "ただいま利用できません" in html and "データベースに接続できませんでした" in html
        assert response.headers["Retry-After"] == "30"
        assert "Traceback" not in html and "psycopg" not in html


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../../etc/passwd"])
def test_a_bad_timezone_stops_the_start(tmp_path: Path, zone: str) -> None:
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_TIMEZONE"):
        make_app(tmp_path, TIMEZONE=zone)


def test_times_follow_the_timezone_setting(tmp_path: Path) -> None:
    for zone, shown in (("Asia/Tokyo", "2026-01-31 09:30"), ("Europe/Paris", "2026-01-31 01:30")):
        app = make_app(tmp_path / zone.replace("/", "-"), TIMEZONE=zone,
                       CONTENT_DIR=str(copy_fixture(tmp_path / zone.replace("/", "-"))))
        engine = engine_of(app)
        add_reviewer(engine, "sato")
        item = add_request(engine)
        with engine.begin() as conn:
            conn.execute(requests.update().values(
                created_at=dt.datetime(2026, 1, 31, 0, 30, tzinfo=dt.UTC)))
        client = app.test_client()
        assert login(client).status_code == 303
        html = client.get(f"/review/requests/{item['id']}").get_data(as_text=True)
        assert f"<dd>{shown}</dd>" in html, zone
        # The date filter counts days in the same zone.
        day = shown[:10]
        listing = client.get(f"/review/?from={day}&to={day}").get_data(as_text=True)
        assert item["receipt"] in listing, zone
