"""Helpers for the review-side tests: requests stored through the forms' real submit path."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from forms_helpers import csrf_from
from sqlalchemy import Engine

from forms_app.config import NotifySettings
from forms_app.public.queue import Submission, submit
from forms_app.review import accounts, triage
from forms_app.storage.db import get_engine
from forms_app.storage.migrations import migrate

PASSWORD = "correct horse battery staple"


def migrated_engine(url: str) -> Engine:
    """The engine for `url` with the queue schema brought up to date."""
    engine = get_engine(url)
    migrate(engine)
    return engine


def sqlite_engine(tmp_path: Path) -> Engine:
    return migrated_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")


def add_request(
    engine: Engine,
    *,
    form: str = "feedback",
    title: str = "管理画面でエラーが出る",
    body: str = "保存ボタンを押すとエラーになります。",
    product: str | None = "cloud",
    fields: dict[str, Any] | None = None,
    email: str | None = None,
    notify: NotifySettings | None = None,
) -> dict[str, Any]:
    """Submit through forms_app.public.queue.submit and return the stored row (`notify`: the
    notification settings, none by default)."""
    receipt = submit(
        engine,
        Submission(
            form=form,
            product=product,
            title=title,
            body=body,
            fields=fields if fields is not None else {"description": body},
            support_id_hash="0" * 64,
            contact_email=email,
            client_addr="192.0.2.1",
        ),
        notify or NotifySettings(),
    )
    return triage.get_request(engine, receipt)


def move_to(engine: Engine, request_id: int, status: str, *, other: int | None = None) -> None:
    """Bring a fresh request to `status` through allowed transitions."""
    paths = {
        "received": [],
        "in_review": ["in_review"],
        "accepted": ["in_review", "accepted"],
        "declined": ["in_review", "declined"],
        "duplicate": ["in_review", "duplicate"],
        "published": ["in_review", "accepted", "published"],
    }
    for step in paths[status]:
        triage.set_status(
            engine, request_id, step, actor="setup",
            duplicate_of=other if step == "duplicate" else None,
            faq_id="install-steps" if step == "published" else None,
        )


def add_reviewer(engine: Engine, name: str = "sato") -> str:
    accounts.add_reviewer(engine, name, PASSWORD)
    return name


def login(client: FlaskClient, name: str = "sato", password: str = PASSWORD) -> Any:
    page = client.get("/review/login").get_data(as_text=True)
    return client.post(
        "/review/login",
        data={"username": name, "password": password, "csrf_token": csrf_from(page)},
    )


class TagCollector(HTMLParser):
    """Every start tag with its attributes, to look for live markup in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def live_markup(html: str) -> list[str]:
    """Scripts, event handlers and javascript: URLs that a browser would run."""
    parser = TagCollector()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag == "script":
            found.append("<script>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and (value or "").strip(
            ).lower().startswith("javascript:"):
                found.append(f"{tag} {name}={value}")
    return found
