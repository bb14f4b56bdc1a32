"""Back to the content: a draft FAQ entry from an accepted docs request.

Writes ``content/faq/<category>/<id>.yml`` in the editors' format
(plugins/cmskb/content/FORMAT.md) with ``draft: true``, a new unique ASCII id and the
request's text as the starting question and answer. The build leaves drafts out until an
editor finishes the entry and removes ``draft: true``.

The id becomes the public URL, so it carries nothing of the request (not its receipt, which
would let anyone look the request up): ``faq-<date>-<random>``; Japanese titles have no
ASCII slug, and an editor may rename it before publishing. One request gets one draft: a
second try names the draft that exists (checked and recorded in one write transaction, so
two clicks at once still make one file).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import Engine, select

from forms_app.review.triage import InvalidInput, TriageError, check_actor, get_request, record
from forms_app.storage.db import is_sqlite, write_tx
from forms_app.storage.schema import request_history, requests
from forms_app.timeutil import local_today, utcnow

# Lower-case letters and digits that cannot be misread for each other (no l/1, o/0, i).
_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_ID_RANDOM = 5
# Field names of the docs form that hold the suggested text.
ANSWER_FIELDS = ("suggested",)
PAGE_FIELDS = ("page_url",)


@dataclass(frozen=True, slots=True)
class Draft:
    faq_id: str
    category: str
    path: Path


class DraftExists(TriageError):
    """The request already has a draft (`path` is where it was written)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"このリクエストのFAQ下書きはすでにあります: {path}")
        self.path = path


class _DraftDumper(yaml.SafeDumper):
    """Safe dumper that writes multi-line text as literal blocks editors can read."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_DraftDumper.add_representer(str, _str_presenter)


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def categories(content_dir: Path) -> list[str]:
    data = _read_yaml(content_dir / "faq" / "categories.yml") or {}
    return [str(c["id"]) for c in data.get("categories") or [] if isinstance(c, dict)]


def product_ids(content_dir: Path) -> list[str]:
    data = _read_yaml(content_dir / "site.yml") or {}
    return [str(p["id"]) for p in data.get("products") or [] if isinstance(p, dict)]


def existing_ids(content_dir: Path) -> set[str]:
    return {path.stem for path in (content_dir / "faq").glob("*/*.yml")}


def _first_field(fields: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def guess_category(content_dir: Path, page_url: str) -> str | None:
    """The category of the site page a docs request points at, when it is an FAQ page."""
    path = urlsplit(page_url).path if page_url else ""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "faq" and parts[1] == "category":
        return parts[2]
    if len(parts) >= 2 and parts[0] == "faq":
        for found in (content_dir / "faq").glob(f"*/{parts[1]}.yml"):
            return found.parent.name
    return None


def new_id(day: dt.date, taken: set[str]) -> str:
    """An unused id such as ``faq-20261102-k7m2x`` (date and random letters, no request data).

    Its shape always passes the content layer's id rule (lower-case letters, digits and
    hyphens, 18 characters) and is never a reserved word such as ``category``.
    """
    while True:
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_RANDOM))
        candidate = f"faq-{day:%Y%m%d}-{suffix}"
        if candidate not in taken:
            return candidate


def _question_text(request: dict[str, Any], fields: dict[str, Any]) -> str:
    text = str(request.get("title") or "").strip() or _first_field(fields, ("missing",))
    return " ".join(text.split()) or "(質問文を記入してください)"


def _answer_text(request: dict[str, Any], fields: dict[str, Any]) -> str:
    text = _first_field(fields, ANSWER_FIELDS) or str(request.get("body") or "").strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text or "(回答を記入してください)") + "\n"


def write_draft(
    engine: Engine,
    ref: int | str,
    *,
    content_dir: Path,
    actor: str,
    category: str | None = None,
    today: dt.date | None = None,
    products: Sequence[str] | None = None,
) -> Draft:
    """Write the draft entry for an accepted docs request and record it in its history.

    `products` are the site's product ids (the app passes its own list); without them they
    are read from ``content_dir/site.yml``.
    """
    check_actor(actor)
    request = get_request(engine, ref)
    if request["form"] != "docs":
        raise TriageError("FAQの下書きはQ&A・マニュアルへの記載要望からだけ作れます。")
    if request["status"] != "accepted":
        raise TriageError("FAQの下書きは「採用」のリクエストからだけ作れます。")
    fields = request.get("fields") or {}
    if not isinstance(fields, dict):
        fields = {}
    known = categories(content_dir)
    if not known:
        raise TriageError(f"{content_dir}/faq/categories.yml にカテゴリーがありません。")
    category = category or guess_category(content_dir, _first_field(fields, PAGE_FIELDS))
    if category is None:
        category = known[0]
    elif category not in known:
        raise InvalidInput(f"カテゴリー {category} はありません。候補: {', '.join(known)}")
    if products is None:
        products = product_ids(content_dir)
    chosen = [request["product"]] if request.get("product") in products else list(products)
    if not chosen:
        raise TriageError(f"{content_dir}/site.yml に製品がありません。")
    day = today or local_today()
    folder = content_dir / "faq" / category
    written: Path | None = None
    try:
        with write_tx(engine) as conn:
            # Lock the request (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers)
            # and look for an earlier draft in the same transaction that records this one.
            lock = select(requests.c.status).where(requests.c.id == request["id"])
            status = conn.execute(lock if is_sqlite(engine) else lock.with_for_update()).scalar()
            if status != "accepted":
                raise TriageError("FAQの下書きは「採用」のリクエストからだけ作れます。")
            earlier = conn.execute(
                select(request_history.c.comment)
                .where(
                    request_history.c.request_id == request["id"],
                    request_history.c.action == "draft_faq",
                )
                .order_by(request_history.c.id)
            ).first()
            if earlier is not None:
                raise DraftExists(earlier.comment or "(場所の記録なし)")
            faq_id = new_id(day, existing_ids(content_dir))
            entry = {
                "id": faq_id,
                "question": _question_text(request, fields),
                "answer": _answer_text(request, fields),
                "products": chosen,
                "updated": day,
                "draft": True,
            }
            header = (
                f"# 下書き: リクエスト #{request['id']} から作成。質問と回答を仕上げてから\n"
                "# draft: true を消すと公開されます。\n"
            )
            text = header + yaml.dump(
                entry, Dumper=_DraftDumper, allow_unicode=True, sort_keys=False, width=1000
            )
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{faq_id}.yml"
            with path.open("x", encoding="utf-8") as handle:  # never overwrite an entry
                handle.write(text)
            written = path
            record(
                conn, request_id=request["id"], actor=actor, action="draft_faq",
                from_status=request["status"], to_status=request["status"],
                comment=f"faq/{category}/{faq_id}.yml", at=utcnow(),
            )
    except BaseException:
        if written is not None:  # the history does not record it: no orphan file
            written.unlink(missing_ok=True)
        raise
    return Draft(faq_id, category, path)
