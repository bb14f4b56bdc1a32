"""Draft FAQ entries written from accepted docs requests load with the site's content loader."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
import yaml
from cmskb.content.loader import load_content
from content_helpers import copy_fixture
from review_helpers import add_request, move_to, sqlite_engine
from sqlalchemy import Engine

from forms_app.review import drafts, triage


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return sqlite_engine(tmp_path)


def _accepted_docs(engine: Engine, **kw: object) -> dict[str, object]:
    fields = {"target": "faq", "page_url": "", "missing": "説明が足りない",
              "suggested": "手順1: 設定を開く\n手順2: 保存する"}
    fields.update(kw.pop("fields", {}))  # type: ignore[arg-type]
    item = add_request(engine, form="docs", title="バックアップの手順を知りたい",
                       body="説明が足りない", product="cloud", fields=fields, **kw)  # type: ignore[arg-type]
    move_to(engine, item["id"], "accepted")
    return item


def test_draft_loads_with_the_content_loader(tmp_path: Path, engine: Engine) -> None:
    content = copy_fixture(tmp_path)
    before = load_content(content)
    item = _accepted_docs(engine)
    made = drafts.write_draft(engine, item["id"], content_dir=content, actor="sato",
                              category="support-contract", today=dt.date(2026, 11, 2))
    assert made.path == content / "faq" / "support-contract" / f"{made.faq_id}.yml"
    assert re.fullmatch(r"faq-20261102-[a-z2-9]{5}", made.faq_id)
    assert made.faq_id not in {q.id for q in before.questions}
    # Nothing of the request in the public id or the file: not its receipt.
    receipt = str(item["receipt"])
    text = made.path.read_text(encoding="utf-8")
    for part in receipt.lower().split("-"):
        assert part not in made.faq_id
    assert receipt not in text and f"#{item['id']}" in text
    loaded = load_content(content)
    question = next(q for q in loaded.questions if q.id == made.faq_id)
    assert question.draft is True
    assert question.category == "support-contract"
    assert question.question == "バックアップの手順を知りたい"
    assert question.answer == "手順1: 設定を開く\n手順2: 保存する\n"
    assert question.products == ("cloud",)
    assert question.updated == dt.date(2026, 11, 2)
    assert made.faq_id not in {q.id for q in loaded.published_questions}
    history = triage.get_history(engine, item["id"])
    assert history[-1]["action"] == "draft_faq"
    assert history[-1]["comment"] == f"faq/support-contract/{made.faq_id}.yml"


def test_second_draft_is_refused_and_hostile_yaml_stays_text(
    tmp_path: Path, engine: Engine
) -> None:
    content = copy_fixture(tmp_path)
    nasty = "key: value\n- item\n!!python/object:os.system ['echo hi']\n---\n&a *a # comment"
    item = _accepted_docs(engine, fields={"suggested": nasty, "page_url": "/faq/install-steps/"})
    one = drafts.write_draft(engine, item["id"], content_dir=content, actor="sato")
    with pytest.raises(drafts.DraftExists, match=f"faq/installation/{one.faq_id}.yml"):
        drafts.write_draft(engine, item["id"], content_dir=content, actor="suzuki")
    assert sorted(p.name for p in (content / "faq").glob("*/faq-*.yml")) == [f"{one.faq_id}.yml"]
    actions = [h["action"] for h in triage.get_history(engine, item["id"])]
    assert actions.count("draft_faq") == 1
    assert one.category == "installation"  # guessed from the page the request points at
    data = yaml.safe_load(one.path.read_text(encoding="utf-8"))
    assert data["answer"] == nasty + "\n" and data["draft"] is True
    loaded = load_content(content)
    assert one.faq_id in {q.id for q in loaded.questions if q.draft}


def test_two_clicks_at_once_make_one_draft(tmp_path: Path, engine: Engine) -> None:
    content = copy_fixture(tmp_path)
    item = _accepted_docs(engine)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def click() -> None:
        start.wait()
        try:
            outcomes.append(drafts.write_draft(engine, item["id"], content_dir=content,
                                               actor="sato").faq_id)
        except drafts.DraftExists:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [o for o in outcomes if o != "refused"]
    assert len(made) == 1 and outcomes.count("refused") == 3
    assert [p.stem for p in (content / "faq").glob("*/faq-*.yml")] == made


def test_new_ids_avoid_existing_ones() -> None:
    day = dt.date(2026, 1, 5)
    taken = {drafts.new_id(day, set()) for _ in range(50)}
    fresh = drafts.new_id(day, taken)
    assert fresh not in taken and fresh.startswith("faq-20260105-")


def test_only_accepted_docs_requests_get_drafts(tmp_path: Path, engine: Engine) -> None:
    content = copy_fixture(tmp_path)
    feedback = add_request(engine, form="feedback")
    move_to(engine, feedback["id"], "accepted")
    with pytest.raises(triage.TriageError, match="記載要望"):
        drafts.write_draft(engine, feedback["id"], content_dir=content, actor="sato")
    pending = add_request(engine, form="docs")
    with pytest.raises(triage.TriageError, match="採用"):
        drafts.write_draft(engine, pending["id"], content_dir=content, actor="sato")
    item = _accepted_docs(engine)
    with pytest.raises(triage.InvalidInput, match="カテゴリー"):
        drafts.write_draft(engine, item["id"], content_dir=content, actor="sato",
                           category="no-such")
    assert list((content / "faq").glob("*/faq-2*.yml")) == []


def test_unknown_product_falls_back_to_every_product(tmp_path: Path, engine: Engine) -> None:
    content = copy_fixture(tmp_path)
    item = _accepted_docs(engine)
    from forms_app.storage.db import write_tx
    from forms_app.storage.schema import requests

    with write_tx(engine) as conn:
        conn.execute(requests.update().where(requests.c.id == item["id"]).values(product=None))
    made = drafts.write_draft(engine, item["id"], content_dir=content, actor="sato")
    loaded = load_content(content)
    question = next(q for q in loaded.questions if q.id == made.faq_id)
    assert set(question.products) == {p.id for p in loaded.site.products}
