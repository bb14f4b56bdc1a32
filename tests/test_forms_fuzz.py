"""Issue 14, proof 1: every form field and every query parameter of every route, fed NUL,
CR/LF, C1 controls, a bidi override, invalid UTF-8 and a 1 MB value, on SQLite and on
PostgreSQL: never a 5xx; a refused value gets a Japanese 400 (413 for a body over the
limit) and nothing is stored; the only values taken are line breaks in multi-line fields
(stored as typed) and characters in a password (a secret: never shown or stored, only wrong).

Each posted case is the valid request with one value replaced, so a value that slipped
through would be stored: the snapshot of the queue before and after tells.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from content_helpers import copy_fixture
from flask import Flask
from flask.testing import FlaskClient
from forms_helpers import (
    add_support_id,
    count_rows,
    csrf_from,
    docs_data,
    engine_of,
    feedback_data,
)
from forms_helpers import make_app as make_test_app
from review_helpers import PASSWORD, add_request, add_reviewer, move_to
from services import postgres_schema
from sqlalchemy import Engine, func, select

from forms_app.review import drafts
from forms_app.storage.schema import outbox, request_history, requests, votes

VALID_ID = "CK-FUZZ-0001"


@dataclass(frozen=True)
class Bad:
    """One hostile value: how it travels (percent-encoded) and its name."""

    name: str
    encoded: str


def _enc(value: str) -> str:
    return quote_plus(value)


BAD_VALUES = [
    Bad("nul", _enc("前\x00後")),
    Bad("crlf", _enc("前\r\n後")),
    Bad("c1", _enc("前\x85\x9b後")),
    Bad("bidi", _enc("前\u202e後")),
    Bad("invalid-utf8", "%E5%89%8D%FF%FE"),  # 前 then two bytes that are no UTF-8
    Bad("1mb", "x" * (1024 * 1024)),
]
MULTILINE = {"description", "steps", "expected", "actual", "environment", "missing",
             "suggested", "comment"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]{4}")


def _body(fields: dict[str, str], name: str, bad: Bad) -> bytes:
    parts = [f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items() if k != name]
    parts.append(f"{quote_plus(name)}={bad.encoded}")
    return "&".join(parts).encode("ascii")


def _taken(name: str, bad: Bad) -> bool:
    """Whether the rule lets this value through (see the module's docstring). Invalid UTF-8
    and an oversized body are refused whatever field they are in."""
    if name == "password":
        return bad.name not in ("invalid-utf8", "1mb")
    return name in MULTILINE and bad.name == "crlf"


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (requests, request_history, outbox)
        )
        rows = conn.execute(
            select(requests.c.id, requests.c.status, requests.c.claimed_by,
                   requests.c.duplicate_of, requests.c.published_faq_id).order_by(requests.c.id)
        ).all()
    return counts, [tuple(row) for row in rows]


def _assert_refused(response: Any, where: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 413), f"{where}: {response.status_code}"
    assert '<html lang="ja"' in html and JAPANESE.search(html), f"{where}: {html[:300]}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    overrides: dict[str, Any] = {
        "WTF_CSRF_ENABLED": True,
        "CONTENT_DIR": str(copy_fixture(tmp_path)),
        "SITE_URL": "https://support.cmskit.example/",
        "SUBMIT_RATE_LIMIT": "10000 per minute",
        "STATUS_RATE_LIMIT": "10000 per minute",
        "REVIEW_LOGIN_LIMIT": "1000 per minute",
    }
    if request.param == "postgresql":
        with postgres_schema() as url:
            yield make_test_app(tmp_path, DATABASE_URL=url, **overrides)
    else:
        yield make_test_app(tmp_path, **overrides)


def _signed_in(app: Flask) -> FlaskClient:
    add_reviewer(engine_of(app), "sato")
    client = app.test_client()
    token = csrf_from(client.get("/review/login").get_data(as_text=True))
    answer = client.post(
        "/review/login", data={"username": "sato", "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303
    return client


def test_every_query_parameter_of_every_route(app: Flask) -> None:
    engine = engine_of(app)
    public = app.test_client()
    reviewer = _signed_in(app)
    item = add_request(engine)
    gets: list[tuple[FlaskClient, str, list[str]]] = [
        (public, "/", ["x"]),
        (public, "/feedback/", ["x"]),
        (public, "/docs-request/", ["x"]),
        (public, "/thanks/", ["x"]),
        (public, "/status/", ["receipt", "x"]),
        (public, "/healthz", ["x"]),
        (public, "/static/forms.css", ["x"]),
        (public, "/review/login", ["next", "x"]),
        (reviewer, "/review/",
         ["status", "form", "product", "from", "to", "claimed_by", "q", "order", "page", "x"]),
        (reviewer, f"/review/requests/{item['id']}", ["x"]),
        (reviewer, "/review/static/review.css", ["x"]),
        (reviewer, "/review/votes", ["x"]),
        (public, "/votes/popular.json", ["x"]),
        (public, "/votes/install-steps", ["x"]),
    ]
    posts = [
        (public, path, fields) for path, fields in _form_cases(engine)
    ] + [(public, "/review/login", {"username": "sato", "password": PASSWORD})] + [
        (reviewer, path, fields)
        for path, fields in _review_actions(engine, Path(app.config["CONTENT_DIR"]))
    ]
    reached: set[str] = set()
    routes = app.url_map.bind("localhost")
    before = _snapshot(engine)
    for client, path, params in gets:
        reached.add(routes.match(path, method="GET")[0])
        for param in params:
            for bad in BAD_VALUES:
                response = client.get(f"{path}?{param}={bad.encoded}")
                _assert_refused(response, f"GET {path}?{param}= {bad.name}")
    for client, path, fields in posts:
        reached.add(routes.match(path, method="POST")[0])
        page = "/review/login" if path == "/review/login" else (
            path if client is public else "/review/")
        token = csrf_from(client.get(page).get_data(as_text=True))
        for bad in BAD_VALUES:
            response = client.post(f"{path}?x={bad.encoded}", data={**fields, "csrf_token": token})
            _assert_refused(response, f"POST {path}?x= {bad.name}")
    # A vote (JSON, token in a header, kb-votes.js): refused before anything is stored.
    vote = "/votes/install-steps"
    reached.add(routes.match(vote, method="POST")[0])
    token = public.get(vote).get_json()["token"]
    for bad in BAD_VALUES:
        response = public.post(
            f"{vote}?x={bad.encoded}", json={"vote": "yes"}, headers={"X-CSRFToken": token}
        )
        _assert_refused(response, f"POST {vote}?x= {bad.name}")
    assert count_rows(engine, votes) == 0
    assert _snapshot(engine) == before
    every = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert reached == every, every - reached  # a new route must be added to this test


def _form_cases(engine: Engine) -> list[tuple[str, dict[str, str]]]:
    add_support_id(engine, VALID_ID)
    return [
        ("/feedback/", feedback_data(VALID_ID)),
        ("/docs-request/", docs_data(VALID_ID, page_url="https://support.cmskit.example/faq/")),
    ]


def test_every_field_of_the_request_forms(app: Flask) -> None:
    engine = engine_of(app)
    client = app.test_client()
    for path, valid in _form_cases(engine):
        token = csrf_from(client.get(path).get_data(as_text=True))
        fields = {**valid, "csrf_token": token}
        for name in fields:
            for bad in BAD_VALUES:
                before = _snapshot(engine)
                response = client.post(
                    path, data=_body(fields, name, bad),
                    content_type="application/x-www-form-urlencoded",
                )
                where = f"POST {path} {name}= {bad.name}"
                if _taken(name, bad):
                    assert response.status_code == 303, where
                    assert _snapshot(engine)[0][0] == before[0][0] + 1, where
                    continue
                _assert_refused(response, where)
                assert _snapshot(engine) == before, where


def _review_actions(engine: Engine, content_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """(path, valid fields) of every review action, each on a request it can change."""
    received = add_request(engine)
    in_review = add_request(engine)
    move_to(engine, in_review["id"], "in_review")
    accepted = add_request(engine, form="docs", fields={"missing": "手順がない"})
    move_to(engine, accepted["id"], "accepted")
    other = add_request(engine)
    category = drafts.categories(content_dir)[0]
    return [
        (f"/review/requests/{received['id']}/claim", {}),
        (f"/review/requests/{received['id']}/release", {}),
        (f"/review/requests/{received['id']}/status",
         {"status": "in_review", "comment": "確認します"}),
        (f"/review/requests/{in_review['id']}/duplicate",
         {"of": other["receipt"], "comment": "同じ内容"}),
        (f"/review/requests/{accepted['id']}/publish",
         {"faq_id": "install-steps", "comment": "掲載しました"}),
        (f"/review/requests/{accepted['id']}/draft", {"category": category}),
        ("/review/logout", {}),
    ]


def test_every_field_of_the_review_pages(app: Flask) -> None:
    engine = engine_of(app)
    reviewer = _signed_in(app)
    content_dir = Path(app.config["CONTENT_DIR"])
    drafts_before = sorted(content_dir.rglob("*.yml"))
    for path, valid in _review_actions(engine, content_dir):
        token = csrf_from(reviewer.get("/review/").get_data(as_text=True))
        fields = {**valid, "csrf_token": token}
        for name in fields:
            for bad in BAD_VALUES:
                if _taken(name, bad):
                    continue  # a comment's line breaks are taken: the action would happen
                before = _snapshot(engine)
                response = reviewer.post(
                    path, data=_body(fields, name, bad),
                    content_type="application/x-www-form-urlencoded",
                )
                _assert_refused(response, f"POST {path} {name}= {bad.name}")
                assert _snapshot(engine) == before, f"POST {path} {name}= {bad.name}"
    assert sorted(content_dir.rglob("*.yml")) == drafts_before
    # Still signed in: no refused logout went through.
    assert reviewer.get("/review/").status_code == 200


def test_every_field_of_the_review_login(app: Flask) -> None:
    engine = engine_of(app)
    add_reviewer(engine, "sato")
    before = _snapshot(engine)
    for name in ("username", "password", "next", "csrf_token"):
        for bad in BAD_VALUES:
            client = app.test_client()
            token = csrf_from(client.get("/review/login").get_data(as_text=True))
            fields = {"username": "sato", "password": PASSWORD, "next": "/forms/review/",
                      "csrf_token": token}
            response = client.post(
                "/review/login", data=_body(fields, name, bad),
                content_type="application/x-www-form-urlencoded",
            )
            where = f"POST /review/login {name}= {bad.name}"
            if _taken(name, bad):
                assert response.status_code == 401, where  # a wrong password, nothing more
                assert "パスワードが違います" in response.get_data(as_text=True), where
            else:
                _assert_refused(response, where)
            assert client.get("/review/").status_code == 303, where  # not signed in
    assert _snapshot(engine) == before
