"""The reviewers' web view: login, lockout, CSRF, escaping and every action."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from review_helpers import (
    PASSWORD,
    add_request,
    add_reviewer,
    copy_content,
    csrf_from,
    live_markup,
    login,
    move_to,
)
from sqlalchemy import Engine

from forms_app import triage
from forms_app.testing import engine_of, make_app

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
        CONTENT_DIR=str(copy_content(tmp_path)),
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
    return csrf_from(client.get(path).get_data(as_text=True))


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


def test_lockout_per_username_holds_across_client_addresses(
    app: Flask, client: FlaskClient
) -> None:
    for i in range(5):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        assert login(other, "sato", "guess").status_code == 401
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert login(fresh, "sato", PASSWORD).status_code == 429
    # Another account from that fresh address is not locked.
    add_reviewer(engine_of(app), "suzuki")
    assert login(fresh, "suzuki", PASSWORD).status_code == 303


def test_session_expires_after_its_lifetime(app: Flask, signed_in: FlaskClient) -> None:
    assert signed_in.get("/review/").status_code == 200
    with signed_in.session_transaction() as session:
        hours = app.config["REVIEW_SESSION_HOURS"]
        session["review_since"] = int(time.time()) - hours * 3600 - 5
    assert signed_in.get("/review/").status_code == 303


def test_removed_account_loses_its_session(signed_in: FlaskClient, engine: Engine) -> None:
    from forms_app import accounts

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
    assert "FAQの下書きを作りました: faq/installation/req-" in text
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
    drafts = list((Path(app.config["CONTENT_DIR"]) / "faq" / "installation").glob("req-*.yml"))
    assert len(drafts) == 1


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
