"""Helpers for tests (ours and the review side's): a test app on a fresh SQLite file."""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from cmskb.frame import FRAME_FILE
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Table, func, select

from forms_app import create_app
from forms_app.config import DEFAULTS
from forms_app.public.support_ids import id_hash, normalize
from forms_app.storage.db import app_engine
from forms_app.storage.schema import requests, support_ids

PEPPER = "test-pepper-8d41c7e29b3f5a06e1d7c4b2"
# Strong enough for the production settings some tests start (config.secret_weakness).
SECRET_KEY = "test-secret-key-5be0f93a7c1d2e846b9f0a3c"
# The forms write name/type/value, the review pages type/name/value: any attribute order.
_CSRF_INPUT = re.compile(r'<input\b[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')
_RECEIPT = re.compile(r'class="receipt__number" lang="en">([0-9A-Z-]+)<')


@functools.cache
def plain_site() -> Path:
    """A site folder holding only a frame (the sidecar's plain one), for forms tests that
    start with production settings, which refuse to start without a frame; the real built
    site's frame is tested in tests/test_forms_frame.py and tests/e2e/test_e2e_frame.py."""
    site = Path(tempfile.mkdtemp(prefix="plain-site-"))
    frame = site / FRAME_FILE
    frame.parent.mkdir(parents=True)
    source = resources.files("forms_app") / "templates" / "fallback_frame.html"
    frame.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return site


def config_for(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Configuration for a test app whose database and instance folder live in tmp_path."""
    config: dict[str, Any] = {
        "SITE_DIR": str(plain_site()),
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "SUPPORT_ID_PEPPER": PEPPER,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return config


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    return create_app(config_for(tmp_path, **overrides))


def add_support_id(
    engine: Engine,
    plain: str,
    *,
    pepper: str = PEPPER,
    product: str = "cloud",
    expires_on: dt.date | None = None,
    revoked: bool = False,
    holder_kind: str = "customer",
) -> str:
    """Store a support ID directly; returns its hash."""
    now = dt.datetime.now(dt.UTC)
    digest = id_hash(pepper, normalize(plain))
    with engine.begin() as conn:
        conn.execute(
            support_ids.insert().values(
                id_hash=digest,
                holder_kind=holder_kind,
                product=product,
                expires_on=expires_on or dt.date.today() + dt.timedelta(days=365),
                revoked_at=now if revoked else None,
                label="test",
                created_at=now,
                updated_at=now,
            )
        )
    return digest


def engine_of(app: Flask) -> Engine:
    return app_engine(app)


def count_rows(engine: Engine, table: Table = requests) -> int:
    """How many rows `table` holds (the queue's requests unless told)."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in `html`; AssertionError when there is none."""
    match = _CSRF_INPUT.search(html)
    if match is None:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


def csrf_token(client: FlaskClient, path: str) -> str:
    """GET a form page and return the CSRF token it carries."""
    return csrf_from(client.get(path).get_data(as_text=True))


def receipt_from(html: str) -> str | None:
    """The receipt number a thanks page shows, or None."""
    match = _RECEIPT.search(html)
    return match.group(1) if match else None


def receipt_on_thanks(client: FlaskClient) -> str:
    """GET the thanks page and return its receipt number; AssertionError when it shows none."""
    html = client.get("/thanks/").get_data(as_text=True)
    receipt = receipt_from(html)
    assert receipt, html
    return receipt


def session_cookie(client: FlaskClient) -> str:
    """The value of the forms' session cookie in `client`."""
    cookie = client.get_cookie(
        DEFAULTS["SESSION_COOKIE_NAME"], path=DEFAULTS["SESSION_COOKIE_PATH"]
    )
    assert cookie is not None, "no session cookie was set"
    return cookie.value


def feedback_data(support_id: str, **overrides: str) -> dict[str, str]:
    """A complete, valid 機能要望・問題報告 submission."""
    data = {
        "support_id": support_id,
        "contact_email": "",
        "website": "",
        "kind": "problem",
        "product": "cloud",
        "version": "7.2.1",
        "title": "記事の一覧で並び順が保存されない",
        "description": "記事一覧で並び順を変更して保存しても、元の順番に戻ります。",
        "steps": "1. 記事一覧を開く\n2. 並び順を変える\n3. 保存する",
        "expected": "変更した並び順で表示される",
        "actual": "元の並び順に戻る",
        "environment": "Chrome 130 / Windows 11",
    }
    data.update(overrides)
    return data


def docs_data(support_id: str, **overrides: str) -> dict[str, str]:
    """A complete, valid Q&A・マニュアルへの記載要望 submission."""
    data = {
        "support_id": support_id,
        "contact_email": "",
        "website": "",
        "target": "faq",
        "page_url": "/faq/install-requirements/",
        "missing": "PHP 8.3 に対応しているかどうかが書かれていません。",
        "suggested": "動作環境の表に PHP 8.3 の行を追加してください。",
    }
    data.update(overrides)
    return data


def submit_many(config: dict[str, Any], support_id: str, count: int) -> list[str]:
    """Run in a child process: submit `count` requests, return the receipts acknowledged.

    A receipt counts as acknowledged only when the thanks page showed it after a 303.
    """
    app = create_app(config)
    client = app.test_client()
    receipts: list[str] = []
    for i in range(count):
        response = client.post("/feedback/", data=feedback_data(support_id, title=f"並行送信 {i}"))
        if response.status_code != 303:
            continue
        receipt = receipt_from(client.get("/thanks/").get_data(as_text=True))
        if receipt:
            receipts.append(receipt)
    return receipts
