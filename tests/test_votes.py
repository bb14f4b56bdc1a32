""""役に立ちましたか?" votes through the sidecar (forms_app.votes): one vote per browser and
question, a change of mind, CSRF and origin checks, unknown questions, rate limits (memory
and Redis), PostgreSQL, popular.json, the docs form's prefill, the migration from version 4,
and what reviewers get (web view, `cmskit-forms review votes`, export, purge)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from cmskb.content.loader import load_content
from content_helpers import copy_fixture
from flask import Flask
from flask.testing import FlaskClient
from forms_helpers import count_rows, engine_of, make_app
from product_fixtures import ROOT
from review_helpers import add_reviewer, login
from services import REDIS_URL, redis_url
from sqlalchemy import create_engine, inspect, select, text, update

from forms_app.cli import main
from forms_app.review import retention
from forms_app.storage.db import dispose_all
from forms_app.storage.migrations import migrate
from forms_app.storage.schema import SCHEMA_VERSION, votes
from forms_app.votes import questions, voter

QUESTION = "install-steps"  # a published question of tests/fixtures/content-min
OTHER = "addon-ticket"
DRAFT = "draft-question"
ADDR = "198.51.100.23"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = copy_fixture(tmp_path)
    (root / "faq" / "installation" / f"{DRAFT}.yml").write_text(
        f"id: {DRAFT}\nquestion: 下書きの質問\nanswer: まだ公開しない\n"
        "products: [cloud]\nupdated: 2026-11-02\ndraft: true\n",
        encoding="utf-8",
    )
    return root


def _app(tmp_path: Path, content: Path, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {"WTF_CSRF_ENABLED": True, "CONTENT_DIR": str(content)}
    settings.update(overrides)
    return make_app(tmp_path, **settings)


class Browser:
    """One browser: its cookies (the test client's), its address, the last token."""

    def __init__(self, app: Flask, addr: str = ADDR) -> None:
        self.client: FlaskClient = app.test_client()
        self.addr = addr
        self.token = ""

    def state(self, qid: str = QUESTION) -> Any:
        response = self.client.get(f"/votes/{qid}", environ_base={"REMOTE_ADDR": self.addr})
        if response.status_code == 200:
            self.token = response.get_json()["token"]
        return response

    def vote(self, choice: str, qid: str = QUESTION, *, token: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        sent = {"X-CSRFToken": self.token if token is None else token,
                "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin", **(headers or {})}
        return self.client.post(
            f"/votes/{qid}", json={"vote": choice}, headers=sent,
            environ_base={"REMOTE_ADDR": self.addr},
        )


def _stored(app: Flask) -> list[tuple[str, bool]]:
    with engine_of(app).connect() as conn:
        rows = conn.execute(select(votes.c.question_id, votes.c.helpful).order_by(votes.c.id))
        return [(q, bool(h)) for q, h in rows]


def test_vote_change_of_mind_and_one_vote_per_browser(tmp_path: Path, content: Path) -> None:
    app = _app(tmp_path, content)
    reader = Browser(app)
    first = reader.state()
    assert first.status_code == 200 and first.get_json()["vote"] is None
    assert first.headers["Cache-Control"] == "no-store"
    answer = reader.vote("yes")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "question": QUESTION, "vote": "yes", "message": "ご回答ありがとうございました。"
    }
    cookie = answer.headers["Set-Cookie"]
    assert voter.COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert reader.state().get_json()["vote"] == "yes"
    # A change of mind replaces the vote: still one row.
    assert reader.vote("no").status_code == 200
    assert reader.state().get_json()["vote"] == "no"
    assert _stored(app) == [(QUESTION, False)]
    # Another question, another browser: their own rows.
    reader.vote("yes", OTHER)
    other = Browser(app)
    other.state()
    other.vote("yes")
    assert sorted(_stored(app)) == [(OTHER, True), (QUESTION, False), (QUESTION, True)]
    assert other.state(OTHER).get_json()["vote"] is None
    # The database holds a keyed hash of the browser's id, never the cookie's id.
    with engine_of(app).connect() as conn:
        stored = set(conn.execute(select(votes.c.voter)).scalars())
    assert all(len(v) == 64 for v in stored) and len(stored) == 2


def test_forged_voter_cookie_counts_as_a_new_browser(tmp_path: Path, content: Path) -> None:
    app = _app(tmp_path, content)
    reader = Browser(app)
    reader.state()
    reader.vote("yes")
    real = reader.client.get_cookie(voter.COOKIE, path="/forms/votes")
    assert real is not None
    reader.client.set_cookie(voter.COOKIE, real.value[:-3] + "AAA", domain=real.domain,
                             path="/forms/votes")
    assert reader.state().get_json()["vote"] is None
    reader.vote("no")
    assert sorted(_stored(app)) == [(QUESTION, False), (QUESTION, True)]


def test_csrf_and_origin_checks_refuse_forged_votes(tmp_path: Path, content: Path) -> None:
    app = _app(tmp_path, content)
    reader = Browser(app)
    reader.state()
    missing = reader.vote("yes", token="")
    assert missing.status_code == 400 and missing.get_json()["csrf"] is True
    assert "有効期限" in missing.get_json()["message"]
    assert reader.vote("yes", token="forged-token").status_code == 400
    foreign = reader.vote("yes", headers={"Origin": "https://attacker.example"})
    assert foreign.status_code == 403
    assert foreign.get_json()["message"] == "このサイトのページからだけ回答できます。"
    for where in ("cross-site", "same-site", "none"):
        assert reader.vote("yes", headers={"Sec-Fetch-Site": where}).status_code == 403, where
    # A cross-site HTML form can only send form encodings: not a vote.
    form = reader.client.post(
        f"/votes/{QUESTION}", data={"vote": "yes"},
        headers={"X-CSRFToken": reader.token, "Origin": "http://localhost"},
    )
    assert form.status_code == 415
    assert count_rows(engine_of(app), votes) == 0


def test_token_of_another_session_is_refused(tmp_path: Path, content: Path) -> None:
    app = _app(tmp_path, content)
    victim, attacker = Browser(app), Browser(app)
    victim.state()
    attacker.state()
    assert victim.vote("yes", token=attacker.token).status_code == 400
    assert count_rows(engine_of(app), votes) == 0


def test_unknown_draft_and_malformed_questions_are_refused(
    tmp_path: Path, content: Path
) -> None:
    app = _app(tmp_path, content)
    reader = Browser(app)
    reader.state()
    for qid in ("no-such-question", DRAFT, "Install-Steps", "a" * 90):
        state = reader.state(qid)
        assert state.status_code == 404, qid
        assert state.get_json()["message"] == "このご質問は見つかりませんでした。"
        assert reader.vote("yes", qid).status_code == 404
    bad = reader.vote("maybe")
    assert bad.status_code == 400 and "「はい」か「いいえ」" in bad.get_json()["message"]
    assert count_rows(engine_of(app), votes) == 0


def test_rate_limit_answers_in_japanese_and_keeps_the_vote(
    tmp_path: Path, content: Path
) -> None:
    app = _app(tmp_path, content, VOTE_RATE_LIMIT="2 per minute")
    reader = Browser(app)
    reader.state()
    assert [reader.vote(v).status_code for v in ("yes", "no")] == [200, 200]
    limited = reader.vote("yes")
    assert limited.status_code == 429
    assert "しばらく待って" in limited.get_json()["message"]
    assert reader.state().get_json()["vote"] == "no"  # the recorded vote is kept
    elsewhere = Browser(app, addr="198.51.100.99")  # limits count per client
    elsewhere.state()
    assert elsewhere.vote("yes").status_code == 200


def test_popular_lists_questions_with_enough_helpful_votes(
    tmp_path: Path, content: Path
) -> None:
    app = _app(tmp_path, content, VOTE_POPULAR_MIN_YES=2, SITE_URL="https://support.example/")
    empty = app.test_client().get("/votes/popular.json")
    assert empty.get_json() == {"questions": [], "min_yes": 2}
    assert empty.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in empty.headers
    for n in range(3):
        reader = Browser(app)
        reader.state()
        reader.vote("yes")
        if n < 2:
            reader.vote("yes", OTHER)
        else:
            reader.vote("no", OTHER)
    data = app.test_client().get("/votes/popular.json").get_json()
    assert [q["id"] for q in data["questions"]] == [QUESTION, OTHER]
    first = data["questions"][0]
    assert first["url"] == f"/faq/{QUESTION}/" and first["yes"] == 3 and first["no"] == 0
    assert first["title"] and isinstance(first["title"], str)


def _page_url_input(html: str) -> str:
    found = re.search(r'<input[^>]*name="page_url"[^>]*>', html)
    assert found, "no page_url field"
    return found.group(0)


def test_docs_form_prefilled_from_a_question_page(tmp_path: Path, content: Path) -> None:
    client = _app(tmp_path, content).test_client()
    page = client.get(f"/docs-request/?page=/faq/{QUESTION}/").get_data(as_text=True)
    assert f'value="/faq/{QUESTION}/"' in _page_url_input(page)
    for junk in ("https://attacker.example/", "/faq/no-such-question/", f"/faq/{DRAFT}/",
                 "javascript:alert(1)", f"/faq/{QUESTION}/../../x", "/faq/<b>/",
                 f"//attacker.example/faq/{QUESTION}/", "x" * 400):
        answer = client.get("/docs-request/", query_string={"page": junk})
        assert answer.status_code == 200, junk
        html = answer.get_data(as_text=True)
        assert 'value=""' in _page_url_input(html), junk
        assert 'id="page_url-error"' not in html  # ignored, not an error


# ---------------------------------------------------------------- PostgreSQL and Redis


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    redis_url()
    prefix = f"cmskit-votes-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    conn = redis.Redis.from_url(REDIS_URL)
    keys = list(conn.scan_iter(match=f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.mark.service
def test_votes_on_postgresql_with_limits_in_redis(
    tmp_path: Path, content: Path, pg_url: str, redis_prefix: str
) -> None:
    settings = {"DATABASE_URL": pg_url, "RATELIMIT_STORAGE_URI": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": redis_prefix, "VOTE_RATE_LIMIT": "3 per minute"}
    one = _app(tmp_path, content, **settings)
    two = _app(tmp_path, content, **settings)  # a second worker: shares Redis's counts
    reader = Browser(one)
    reader.state()
    assert reader.vote("yes").status_code == 200
    assert reader.vote("no").status_code == 200
    assert reader.state().get_json()["vote"] == "no"
    other = Browser(two)
    other.state()
    assert other.vote("yes").status_code == 200
    assert other.vote("yes").status_code == 429  # the 4th vote of this address, any worker
    assert sorted(_stored(one)) == [(QUESTION, False), (QUESTION, True)]
    dispose_all()


# ---------------------------------------------------------------- migration


def _as_version_4(url: str) -> None:
    engine = create_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE votes"))
        conn.execute(text("UPDATE schema_version SET version = 4"))
        conn.execute(
            text("INSERT INTO rate_counters (key, n, expires_at) VALUES ('k', 3, :t)"),
            {"t": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
        )
    engine.dispose()


def _check_version_5(url: str) -> None:
    engine = create_engine(url)
    result = migrate(engine)
    assert (result.before, result.after) == (4, SCHEMA_VERSION) and SCHEMA_VERSION == 5
    with engine.begin() as conn:
        assert conn.execute(text("SELECT n FROM rate_counters WHERE key = 'k'")).scalar() == 3
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("votes")}
        assert {"ix_votes_question_voter", "ix_votes_updated"} <= indexes
        now = dt.datetime.now(dt.UTC)
        conn.execute(votes.insert().values(
            question_id=QUESTION, voter="a" * 64, helpful=True, created_at=now, updated_at=now))
    assert migrate(engine).before == 5
    engine.dispose()


def test_migration_from_version_4_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _as_version_4(url)
    _check_version_5(url)


@pytest.mark.service
def test_migration_from_version_4_on_postgresql(pg_url: str) -> None:
    _as_version_4(pg_url)
    _check_version_5(pg_url)


# ---------------------------------------------------------------- reviewers


def _voted_app(tmp_path: Path, content: Path) -> Flask:
    app = _app(tmp_path, content)
    for n, (a, b) in enumerate([("yes", "no"), ("no", "no"), ("yes", "yes")]):
        reader = Browser(app, addr=f"198.51.100.{n + 1}")
        reader.state()
        reader.vote(a)
        reader.vote(b, OTHER)
    return app


def _cli(app: Flask, content: Path, *args: str) -> Any:
    env = {
        "CMSKIT_FORMS_ENV": "testing",
        "CMSKIT_FORMS_DATABASE_URL": app.config["DATABASE_URL"],
        "CMSKIT_FORMS_INSTANCE_PATH": app.instance_path,
        "CMSKIT_FORMS_CONTENT_DIR": str(content),
    }
    result = CliRunner().invoke(main, ["review", *args], env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def test_review_votes_command_ranks_the_least_helpful(tmp_path: Path, content: Path) -> None:
    app = _voted_app(tmp_path, content)
    report = json.loads(_cli(app, content, "votes", "--json").output)
    assert report["votes"] == 6
    assert [(r["id"], r["yes"], r["no"]) for r in report["least_helpful"]] == [
        (OTHER, 1, 2), (QUESTION, 2, 1)
    ]
    assert report["least_helpful"][0]["helpful_percent"] == 33
    text_out = _cli(app, content, "votes").output
    assert "役に立たなかったご質問" in text_out and "回答 6 件、ご質問 2 件" in text_out
    first = text_out.splitlines()[1]
    assert OTHER in first and "はい     1" in first and "いいえ     2" in first


def test_review_web_shows_counts_and_ranking(tmp_path: Path, content: Path) -> None:
    app = _voted_app(tmp_path, content)
    add_reviewer(engine_of(app))
    client = app.test_client()
    assert client.get("/review/votes").status_code == 303  # sign in first
    login(client)
    page = client.get("/review/votes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "役に立たなかったご質問" in html and f'href="/faq/{OTHER}/"' in html
    assert html.index(f"/faq/{OTHER}/") < html.index(f"/faq/{QUESTION}/")
    assert 'data-label="いいえ">2</td>' in html


def test_votes_are_exported_and_purge_forgets_voters(tmp_path: Path, content: Path) -> None:
    app = _voted_app(tmp_path, content)
    rows = list(csv.DictReader(io.StringIO(_cli(app, content, "export", "--votes").output)))
    assert len(rows) == 6 and set(rows[0]) == {
        "id", "question_id", "vote", "created_at", "updated_at"
    }
    assert sorted(r["vote"] for r in rows) == ["no"] * 3 + ["yes"] * 3
    as_json = json.loads(_cli(app, content, "export", "--votes", "--format", "json").output)
    assert len(as_json) == 6 and "voter" not in as_json[0]
    engine = engine_of(app)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    with engine.begin() as conn:
        conn.execute(update(votes).where(votes.c.question_id == OTHER).values(updated_at=old))
    purged = json.loads(_cli(app, content, "purge", "--older-than", "365", "--json",
                             "--as", "sato").output)
    assert purged["votes"] == 3
    with engine.connect() as conn:
        kept = conn.execute(select(votes.c.question_id, votes.c.voter)).all()
    assert len(kept) == 6  # every vote still counts
    assert {q for q, v in kept if v is None} == {OTHER}
    assert retention.purge_closed(engine, older_than_days=365).votes == 0


def test_catalog_is_the_content_loaders_published_questions(
    content: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_content(ROOT / "content")
    found = questions.catalog(ROOT / "content")
    assert found.titles == {q.id: " ".join(q.question.split()) for q in loaded.published_questions}
    fixture = questions.catalog(content)
    assert QUESTION in fixture and DRAFT not in fixture
    # A question added to a category folder is seen without a restart.
    (content / "faq" / "installation" / "new-question.yml").write_text(
        "id: new-question\nquestion: 新しい質問\nanswer: 回答\nproducts: [cloud]\n"
        "updated: 2026-11-02\n", encoding="utf-8",
    )
    assert questions.catalog(content).title("new-question") == "新しい質問"
    # An edited title is seen after MAX_AGE (here: at once).
    path = content / "faq" / "installation" / "new-question.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("新しい質問", "直した質問"),
                    encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    monkeypatch.setattr(questions, "MAX_AGE", 0.0)
    assert questions.catalog(content).title("new-question") == "直した質問"
    assert questions.page_path("https://example.jp/support/", "x") == "/support/faq/x/"


def test_votes_on_a_question_no_longer_published_are_named_so(
    tmp_path: Path, content: Path
) -> None:
    app = _voted_app(tmp_path, content)
    (content / "faq" / "support-contract" / f"{OTHER}.yml").unlink()
    report = json.loads(_cli(app, content, "votes", "--json").output)
    gone = next(r for r in report["least_helpful"] if r["id"] == OTHER)
    assert gone["title"] is None
    assert "(公開されていないご質問)" in _cli(app, content, "votes").output
    # popular.json lists published questions only
    assert all(q["id"] != OTHER for q in
               app.test_client().get("/votes/popular.json").get_json()["questions"])
