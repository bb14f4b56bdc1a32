"""Load and validate everything under content/ into the typed model.

`load_content(root)` reads every file, collects every problem of the run (with file, line
and field) and raises ContentError(problems) if there is any; otherwise it returns a
fully valid `model.Content`. It never imports mkdocs.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TypeVar

import yaml

from .anchors import OPEN_PAGES
from .fields import FieldReader, line_of
from .model import (
    Category,
    Content,
    NewsItem,
    Question,
    SearchSettings,
    SiteSettings,
    newest_first,
)
from .problems import ContentError, Problem
from .readers import (
    Ref,
    Refs,
    read_categories,
    read_news,
    read_plans,
    read_question,
    read_recommendations,
    read_search,
    read_site,
    read_site_refs,
    read_support,
    read_ticket_examples,
)
from .textcheck import TextSource, check_texts, expand_content, site_map_of
from .yamlfile import read_yaml

T = TypeVar("T")

TOP_LEVEL_FILES = (
    "site.yml",
    "plans.yml",
    "recommendations.yml",
    "ticket-examples.yml",
    "support.yml",
)
# Files an editor may leave out.
SEARCH_FILE = "search.yml"
OPTIONAL_FILES = (SEARCH_FILE,)
CATEGORIES_FILE = "faq/categories.yml"

__all__ = ["ContentError", "Problem", "load_content", "load_site"]


class _Run:
    """State of one load: the content root and every problem found so far."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.trees: list[tuple[str, yaml.Node]] = []  # every file read, for the text checks

    def reader(self, rel: str) -> FieldReader:
        return FieldReader(rel, self.problems)

    def parse(self, rel: str) -> yaml.Node | None:
        path = self.root / rel
        if not path.is_file():
            self.problems.append(
                Problem(
                    rel,
                    0,
                    "",
                    "必須のファイルがありません。",
                    f"{rel} を作成してください(書き方は編集ガイドを参照)。",
                )
            )
            return None
        return self.keep(rel, read_yaml(path, rel, self.problems))

    def keep(self, rel: str, node: yaml.Node | None) -> yaml.Node | None:
        """Remember a file's node tree (its texts are checked once every file is read)."""
        if node is not None:
            self.trees.append((rel, node))
        return node

    def read(self, rel: str, fn: Callable[[FieldReader, yaml.Node], T]) -> T | None:
        node = self.parse(rel)
        if node is None:
            return None
        return fn(self.reader(rel), node)

    def report(self, rel: str, line: int, field: str, message: str, hint: str) -> None:
        self.problems.append(Problem(rel, line, field, message, hint))


def _yaml_files(run: _Run, folder: Path, rel_folder: str) -> list[Path]:
    """The `.yml` files of a folder, reporting anything else that looks like content."""
    files: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        rel = f"{rel_folder}/{path.name}"
        if path.is_dir():
            run.report(
                rel,
                0,
                "",
                "ここにはフォルダを置けません。",
                f"{rel_folder}/ の直下に .yml ファイルとして置いてください。",
            )
        elif path.suffix == ".yml":
            files.append(path)
        elif path.suffix in (".yaml", ".YML", ".YAML"):
            run.report(
                rel,
                0,
                "",
                "拡張子が .yml ではないので読み込まれません。",
                f"{path.stem}.yml に名前を変えてください。",
            )
    return files


def _read_files(
    run: _Run,
    folder: Path,
    rel_folder: str,
    read: Callable[..., tuple[T | None, Refs]],
) -> Iterator[tuple[str, str, T | None, Refs]]:
    """(file, stem, item, refs) per `.yml` file of a folder; `read(reader, node, stem=stem)`.

    The item is None (and the refs empty) when the file could not be read.
    """
    for path in _yaml_files(run, folder, rel_folder):
        rel = f"{rel_folder}/{path.name}"
        node = run.keep(rel, read_yaml(path, rel, run.problems))
        item, refs = (
            read(run.reader(rel), node, stem=path.stem) if node is not None else (None, Refs())
        )
        yield rel, path.stem, item, refs


def _check_unknown_top_level(run: _Run) -> None:
    for path in sorted(run.root.iterdir()):
        known = TOP_LEVEL_FILES + OPTIONAL_FILES
        if path.is_file() and path.suffix in (".yml", ".yaml") and path.name not in known:
            close = difflib.get_close_matches(path.name, known, n=1, cutoff=0.6)
            hint = (
                f"{close[0]} の書き間違いではありませんか。"
                if close
                else f"使えるファイルは {', '.join(known)} です。"
            )
            run.report(path.name, 0, "", "不明なファイルです(読み込まれません)。", hint)


def _check_duplicate_ids(run: _Run, found: list[tuple[str, Ref]], what: str) -> None:
    """Report ids defined in more than one file (within-file duplicates are the readers' job)."""
    first: dict[str, tuple[str, Ref]] = {}
    # A file whose name matches the id keeps it; the other file is the one reported.
    found = sorted(found, key=lambda item: PurePosixPath(item[0]).stem != item[1].value)
    for rel, ref in found:
        if ref.value in first and first[ref.value][0] != rel:
            other_rel, other = first[ref.value]
            run.report(
                rel,
                ref.line,
                ref.field,
                f'{what} "{ref.value}" は {other_rel}:{other.line} でも使われています。',
                "ID はすべてのファイルを通して一意にしてください。",
            )
        else:
            first.setdefault(ref.value, (rel, ref))


def _load_faq(
    run: _Run, product_ids: set[str] | None
) -> tuple[list[Category], list[tuple[str, Refs, Question]], set[str]]:
    """Categories, questions (with their file and references) and ids of unreadable files."""
    faq_dir = run.root / "faq"
    categories_node = run.parse(CATEGORIES_FILE)
    categories: list[Category] = []
    category_refs = Refs()
    if categories_node is not None:
        categories, category_refs = read_categories(run.reader(CATEGORIES_FILE), categories_node)
    listed = {ref.value: ref for ref in category_refs.ids}
    list_line = line_of(categories_node) if categories_node is not None else 0

    questions: list[Question] = []
    question_refs: list[tuple[str, Refs, Question]] = []
    counts: dict[str, list[int]] = {}  # category id -> [published, drafts, unreadable]
    failed: set[str] = set()  # file names (ids) of questions that could not be read
    if faq_dir.is_dir():
        for folder in sorted(faq_dir.iterdir(), key=lambda p: p.name):
            rel_folder = f"faq/{folder.name}"
            if folder.name.startswith("."):
                continue
            if folder.is_file():
                if folder.name != "categories.yml":
                    run.report(
                        rel_folder,
                        0,
                        "",
                        "faq/ の直下には categories.yml とカテゴリーのフォルダだけを置きます。",
                        "質問のファイルはカテゴリーのフォルダ(faq/<カテゴリーID>/)に入れてください。",
                    )
                continue
            if categories_node is not None and folder.name not in listed:
                close = difflib.get_close_matches(folder.name, list(listed), n=1, cutoff=0.6)
                hint = f'フォルダ名は "{close[0]}" の書き間違いではありませんか。' if close else ""
                run.report(
                    CATEGORIES_FILE,
                    list_line,
                    "categories",
                    f"フォルダ {rel_folder}/ がありますが、"
                    "そのカテゴリーが categories.yml にありません。",
                    hint
                    or f"categories に id: {folder.name} のカテゴリーを書き足すか、"
                    "フォルダを移してください。",
                )
            tally = counts.setdefault(folder.name, [0, 0, 0])
            read = partial(read_question, category=folder.name)
            for rel, stem, question, refs in _read_files(run, folder, rel_folder, read):
                if question is None or question.id != stem:
                    # Other files may name it by its file name: their references to it
                    # are not reported again (this file's own problem is).
                    failed.add(stem)
                    tally[2] += 1
                if question is None:
                    continue
                questions.append(question)
                question_refs.append((rel, refs, question))
                tally[1 if question.draft else 0] += 1
    elif categories_node is not None:
        run.report(
            "faq",
            0,
            "",
            "faq/ フォルダがありません。",
            "カテゴリーごとのフォルダを faq/ の下に作ってください。",
        )

    for category_id, ref in listed.items():
        published, drafts, unreadable = counts.get(category_id, [0, 0, 0])
        if published or unreadable:
            continue
        if drafts:
            message = (
                f'カテゴリー "{category_id}" の質問は下書き(draft: true)だけで、'
                "公開される質問がありません。"
            )
        elif category_id in counts:
            message = (
                f'カテゴリー "{category_id}" のフォルダ faq/{category_id}/ に質問がありません。'
            )
        else:
            message = f'カテゴリー "{category_id}" のフォルダ faq/{category_id}/ がありません。'
        run.report(
            CATEGORIES_FILE,
            ref.line,
            ref.field,
            message,
            "質問を 1 つ以上公開するか、このカテゴリーを categories.yml から消してください。",
        )

    _check_question_refs(run, question_refs, product_ids, failed)
    order = {c.id: i for i, c in enumerate(categories)}
    question_refs.sort(key=lambda item: (order.get(item[2].category, len(order)), item[2].id or ""))
    return categories, question_refs, failed


def _check_question_refs(
    run: _Run,
    found: list[tuple[str, Refs, Question]],
    product_ids: set[str] | None,
    failed: set[str],
) -> None:
    _check_duplicate_ids(
        run, [(rel, ref) for rel, refs, _ in found for ref in refs.ids], "質問の ID"
    )
    by_id = {q.id: q for _, _, q in found if q.id is not None}
    for rel, refs, question in found:
        if product_ids is not None:
            _check_product_refs(run, rel, refs.products, product_ids)
        for ref in refs.related:
            target = by_id.get(ref.value)
            if ref.value == question.id or (target is None and ref.value in failed):
                continue  # reported by the reader, or the target file could not be read
            if target is None:
                close = difflib.get_close_matches(ref.value, list(by_id), n=1, cutoff=0.6)
                run.report(
                    rel,
                    ref.line,
                    ref.field,
                    f'関連する質問 "{ref.value}" はどのカテゴリーにもありません。',
                    f'"{close[0]}" の書き間違いではありませんか。'
                    if close
                    else "faq/ の下にある質問の id を書いてください。",
                )
            elif target.draft and not question.draft:
                run.report(
                    rel,
                    ref.line,
                    ref.field,
                    f'関連する質問 "{ref.value}" は下書き(draft: true)なので、'
                    "公開される質問からはリンクできません。",
                    f"{target.source.file} を公開するか、related から外してください。",
                )


def _check_popular(
    run: _Run, refs: list[Ref], questions: list[Question], failed: set[str]
) -> None:
    """site.yml `popular`: each id is a published question (unreadable files: reported)."""
    by_id = {q.id: q for q in questions if q.id is not None}
    for ref in refs:
        target = by_id.get(ref.value)
        if target is None and ref.value in failed:
            continue
        if target is None:
            close = difflib.get_close_matches(ref.value, sorted(by_id), n=1, cutoff=0.6)
            run.report(
                "site.yml",
                ref.line,
                ref.field,
                f'ホームに載せる質問 "{ref.value}" はどのカテゴリーにもありません。',
                f'"{close[0]}" の書き間違いではありませんか。'
                if close
                else "faq/ の下にある質問の id を書いてください。",
            )
        elif target.draft:
            run.report(
                "site.yml",
                ref.line,
                ref.field,
                f'ホームに載せる質問 "{ref.value}" は下書き(draft: true)なので、載せられません。',
                f"{target.source.file} を公開するか、popular から外してください。",
            )


def _check_product_refs(run: _Run, rel: str, refs: list[Ref], product_ids: set[str]) -> None:
    """Report product ids of `rel` that site.yml does not list."""
    for ref in refs:
        if ref.value not in product_ids:
            close = difflib.get_close_matches(ref.value, sorted(product_ids), n=1, cutoff=0.6)
            run.report(
                rel,
                ref.line,
                ref.field,
                f'製品 ID "{ref.value}" は site.yml の products にありません。',
                f'"{close[0]}" の書き間違いではありませんか。'
                if close
                else f"使える製品 ID は {', '.join(sorted(product_ids))} です。",
            )


def _load_news(run: _Run) -> tuple[list[tuple[str, Refs, NewsItem]], set[str]]:
    """News items (with their file and references) and ids of unreadable files."""
    folder = run.root / "news"
    if not folder.is_dir():
        return [], set()
    news: list[tuple[str, Refs, NewsItem]] = []
    failed: set[str] = set()
    id_refs: list[tuple[str, Ref]] = []
    for rel, stem, item, refs in _read_files(run, folder, "news", read_news):
        if item is None or item.id != stem:
            failed.add(stem)
        if item is not None:
            news.append((rel, refs, item))
            id_refs.extend((rel, ref) for ref in refs.ids)
    _check_duplicate_ids(run, id_refs, "お知らせの ID")
    return news, failed


def _check_plan_refs(run: _Run, refs: Refs, plan_codes: set[str]) -> None:
    for ref in refs.plans:
        if ref.value not in plan_codes:
            run.report(
                "recommendations.yml",
                ref.line,
                ref.field,
                f'サポート種別 "{ref.value}" は plans.yml にありません。',
                "plans.yml にあるサポート種別 "
                f"({', '.join(sorted(plan_codes))}) を書いてください。",
            )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small node trees are built.

    Loading creates millions of short-lived objects and no reference cycles worth
    collecting; with the collector running, 10,000 questions load about 2x slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_content(root: Path) -> Content:
    """Read and validate the content tree at `root`; raise ContentError listing every problem."""
    with _gc_paused():
        return _load(Path(root))


def load_site(root: Path) -> SiteSettings:
    """Read and validate only `root`/site.yml; raise ContentError listing its problems."""
    run = _start(Path(root))
    site = run.read("site.yml", read_site)
    if run.problems:
        raise ContentError(run.problems)
    assert site is not None  # guaranteed when no problems
    return site


def _start(root: Path) -> _Run:
    """A new run over `root`; ContentError when there is no such folder."""
    if not root.is_dir():
        raise ContentError(
            [
                Problem(
                    str(root),
                    0,
                    "",
                    "コンテンツのフォルダがありません。",
                    "content/ フォルダのパスを確かめてください。",
                )
            ]
        )
    return _Run(root)


def _load(root: Path) -> Content:
    run = _start(root)
    _check_unknown_top_level(run)
    site_read = run.read("site.yml", read_site_refs)
    site, site_refs = site_read if site_read else (None, Refs())
    plans_read = run.read("plans.yml", read_plans)
    plans, _plan_refs = plans_read if plans_read else (None, Refs())
    recommendations_read = run.read("recommendations.yml", read_recommendations)
    recommendations, recommendation_refs = (
        recommendations_read if recommendations_read else ((), Refs())
    )
    ticket_examples = run.read("ticket-examples.yml", read_ticket_examples)
    support = run.read("support.yml", read_support)
    search_read = run.read(SEARCH_FILE, read_search) if (root / SEARCH_FILE).is_file() else None
    search, exclude_refs = search_read or (None, [])

    if plans is not None:
        _check_plan_refs(run, recommendation_refs, {p.code for p in plans.plans if p.code})
    product_ids = {p.id for p in site.products if p.id} if site is not None else None
    if product_ids is not None:
        _check_product_refs(run, "plans.yml", _plan_refs.products, product_ids)
    categories, questions, failed_questions = _load_faq(run, product_ids)
    _check_popular(run, site_refs.popular, [q for _, _, q in questions], failed_questions)
    news, failed_news = _load_news(run)
    sources = TextSource(
        plans=plans,
        plan_texts=_plan_refs.texts,
        questions=questions,
        news=news,
        categories=categories,
        cases=recommendations,
        ticket_notes=bool(ticket_examples and ticket_examples.notes),
        failed_questions=failed_questions,
        failed_news=failed_news,
        forms_prefix=site.forms.base if site is not None else "/forms/",
        home_popular=bool(site_refs.popular),
        trees=run.trees,
    )
    run.problems.extend(check_texts(sources))

    if run.problems:
        raise ContentError(run.problems)
    assert site and plans and ticket_examples and support  # guaranteed when no problems
    table, question_list, news_list = expand_content(
        plans, [q for _, _, q in questions], [n for _, _, n in news]
    )
    content = Content(
        site=site,
        plans=table,
        recommendations=recommendations,
        ticket_examples=ticket_examples,
        support=support,
        categories=tuple(categories),
        questions=tuple(question_list),
        news=tuple(newest_first(news_list)),
        search=search or SearchSettings(),
    )
    _check_search_pages(run, content, exclude_refs)
    if run.problems:
        raise ContentError(run.problems)
    return content


def _check_search_pages(run: _Run, content: Content, refs: list[Ref]) -> None:
    """Every page search.yml keeps out of the search must exist."""
    if not refs:
        return
    pages = set(site_map_of(content).pages) | OPEN_PAGES
    for ref in refs:
        if ref.value not in pages:
            close = difflib.get_close_matches(ref.value, sorted(pages), n=1, cutoff=0.6)
            run.report(
                SEARCH_FILE,
                ref.line,
                ref.field,
                f'ページ "{ref.value}" はサイトにありません。',
                f'"{close[0]}" の書き間違いではありませんか。'
                if close
                else "サイト内のページのパス(/editors/ など)を書いてください。",
            )
