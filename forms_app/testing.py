"""Helpers for tests (ours and the review side's): a test app on a fresh SQLite file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from . import create_app
from .queue import app_engine
from .schema import support_ids
from .support_ids import id_hash, normalize

PEPPER = "test-pepper-0123456789abcdef"
_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def config_for(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Configuration for a test app whose database and instance folder live in tmp_path."""
    config: dict[str, Any] = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
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


def csrf_token(client: FlaskClient, path: str) -> str:
    """GET a form page and return the CSRF token it carries."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF_INPUT.search(html)
    if match is None:
        raise AssertionError(f"no CSRF token on {path}")
    return match.group(1)


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
        page = client.get("/thanks/").get_data(as_text=True)
        match = re.search(r'class="receipt__number" lang="en">([0-9A-Z-]+)<', page)
        if match:
            receipts.append(match.group(1))
    return receipts
