"""Checks of the editors' texts across files, and the expansion of price placeholders.

The loader calls `check_texts` once every file is read: in the Markdown texts, price
placeholders against plans.yml and links against the pages and anchors the site will
have; in every text of every file (`claims`), typed yen figures, price comparisons that
the table does not confirm and restatements of the tickets-per-case rule. When there is
no problem, `expand_content` puts the figures in place of the placeholders, so every
page, the feed and the JSON-LD show the same prices as the price table.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import yaml

from .anchors import (
    PLANS_PAGE,
    QUESTION_PAGE_ANCHORS,
    SiteMap,
    fixed_pages,
    news_path,
    question_path,
)
from .claims import check_comparisons, check_ticket_rule
from .fields import STR, index, join
from .model import Category, Content, NewsItem, Plan, PlanTable, Question, RecommendationCase
from .money import amount_placeholders
from .problems import Problem
from .readers import Refs
from .texts import (
    PriceFigures,
    TextRef,
    check_links,
    check_placeholders,
    check_yen_figures,
    expand_prices,
    heading_ids,
)

PLANS_FILE = "plans.yml"


@dataclass(slots=True)
class TextSource:
    """What the loader read, as far as the text checks need it."""

    plans: PlanTable | None
    plan_texts: list[TextRef]
    questions: Sequence[tuple[str, Refs, Question]]  # (file, refs, question)
    news: Sequence[tuple[str, Refs, NewsItem]]
    categories: Sequence[Category]
    cases: Sequence[RecommendationCase]
    ticket_notes: bool
    failed_questions: set[str] = field(default_factory=set)
    failed_news: set[str] = field(default_factory=set)
    forms_prefix: str = "/forms/"
    home_popular: bool = False  # site.yml lists `popular` questions (a home heading)
    trees: Sequence[tuple[str, yaml.Node]] = ()  # (file, node tree) of every file read


@dataclass(frozen=True, slots=True)
class _Text:
    file: str
    ref: TextRef  # as written
    shown: TextRef  # with the price placeholders expanded (as written when they cannot be)
    page: str
    draft: bool = False


def _texts(source: TextSource, figures: PriceFigures | None) -> list[_Text]:
    """Every Markdown text of `source`; `figures` (see `_priced`) expand their prices once."""
    found = [(PLANS_FILE, ref, PLANS_PAGE, False) for ref in source.plan_texts]
    for rel, refs, question in source.questions:
        page = question_path(question.id) if question.id else ""
        found.extend((rel, ref, page, question.draft) for ref in refs.texts)
    for rel, refs, item in source.news:
        page = news_path(item.id) if item.id else ""
        found.extend((rel, ref, page, False) for ref in refs.texts)
    return [
        _Text(rel, ref, _expanded(ref, figures), page, draft) for rel, ref, page, draft in found
    ]


def check_texts(source: TextSource) -> list[Problem]:
    """Problems of prices and links in every Markdown text of the content."""
    problems: list[Problem] = []
    table = _priced(source.plans)
    figures = PriceFigures.of(table) if table is not None else None
    texts = _texts(source, figures)
    if table is not None and figures is not None:
        for text in texts:
            for issue in check_placeholders(text.ref, figures):
                problems.append(
                    Problem(text.file, issue.line, text.ref.field, issue.message, issue.hint)
                )
        placeholders = amount_placeholders(table)
        for rel, ref in _every_text(source.trees):
            subject = _described_plan(table, rel, ref.field)
            issues = check_yen_figures(ref, placeholders)
            issues += check_comparisons(ref, table, subject)
            issues += check_ticket_rule(ref)
            problems.extend(Problem(rel, i.line, ref.field, i.message, i.hint) for i in issues)
    site = _site_map(source, texts, problems)
    for text in texts:
        if not text.page:
            continue
        for issue in check_links(
            text.shown, page=text.page, site=site, keep_prefix=source.forms_prefix, draft=text.draft
        ):
            problems.append(
                Problem(text.file, issue.line, text.ref.field, issue.message, issue.hint)
            )
    return problems


# fields whose words are not the site's own: quotations of the support-service page
_QUOTED_FIELDS = frozenset({"quote"})


def _every_text(trees: Sequence[tuple[str, yaml.Node]]) -> list[tuple[str, TextRef]]:
    """Every text value of every file, with its field path and line."""
    found: list[tuple[str, TextRef]] = []

    def walk(rel: str, node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value not in _QUOTED_FIELDS:
                    walk(rel, value, join(path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(rel, item, index(path, i))
        elif isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value:
            ref = TextRef.of(node, node.value, path)
            if ref is not None:
                found.append((rel, ref))

    for rel, tree in trees:
        walk(rel, tree, "")
    return found


_DESCRIPTION = re.compile(r"plans\[(\d+)\]\.description")


def _described_plan(table: PlanTable, rel: str, field: str) -> Plan | None:
    """The plan whose description `field` of `rel` is (None for any other text)."""
    match = _DESCRIPTION.fullmatch(field) if rel == PLANS_FILE else None
    if match is None or int(match.group(1)) >= len(table.plans):
        return None
    return table.plans[int(match.group(1))]


def _priced(table: PlanTable | None) -> PlanTable | None:
    """`table` when every figure of it was read (prices can be computed), else None."""
    tax = table.tax if table is not None else None
    if table is None or tax is None or tax.rate is None or tax.rounding is None:
        return None
    for plan in table.plans:
        if None in (plan.code, plan.price_excl_tax, plan.tickets):
            return None
    return table


def _expanded(ref: TextRef, figures: PriceFigures | None) -> TextRef:
    if figures is None:
        return ref
    return dataclasses.replace(ref, text=expand_prices(ref.text, figures))


def _site_map(source: TextSource, texts: list[_Text], problems: list[Problem]) -> SiteMap:
    """The pages and anchors of the site to come; repeated heading ids go to `problems`."""
    table = source.plans
    site = fixed_pages(
        category_ids=[c.id for c in source.categories if c.id],
        news_ids=[n.id for _, _, n in source.news if n.id],
        case_ids=[c.id for c in source.cases if c.id],
        plan_codes=[p.code for p in table.plans if p.code] if table else [],
        plan_notes=bool(table and table.notes),
        ticket_notes=source.ticket_notes,
        home_popular=source.home_popular,
    )
    fixed: dict[str, set[str]] = {}
    for _, _, question in source.questions:
        if not question.id:
            continue
        path = question_path(question.id)
        if question.draft:
            site.drafts.add(path)
            continue
        anchors = set(QUESTION_PAGE_ANCHORS) | {question.id}
        if not question.related:
            anchors.discard("related")
        fixed[path] = anchors
    for _, _, item in source.news:
        if item.id:
            fixed[news_path(item.id)] = {item.id}
    if table is None:
        site.unknown.add(PLANS_PAGE)
    for text in texts:
        if not text.page or text.page in site.drafts:
            continue
        taken = site.pages.setdefault(text.page, set())
        taken.update(fixed.pop(text.page, ()))
        issues = heading_ids(text.shown, taken)
        problems.extend(
            Problem(text.file, i.line, text.ref.field, i.message, i.hint) for i in issues
        )
    for path, anchors in fixed.items():
        site.add(path, anchors)
    site.unknown.update(question_path(stem) for stem in source.failed_questions)
    site.unknown.update(news_path(stem) for stem in source.failed_news)
    return site


def expand_content(
    table: PlanTable, questions: Iterable[Question], news: Iterable[NewsItem]
) -> tuple[PlanTable, list[Question], list[NewsItem]]:
    """The content with every price placeholder replaced by its figure."""
    figures = PriceFigures.of(table)
    plans = tuple(
        dataclasses.replace(plan, description=expand_prices(plan.description, figures))
        for plan in table.plans
    )
    expanded_table = dataclasses.replace(
        table, plans=plans, notes=tuple(expand_prices(note, figures) for note in table.notes)
    )
    return (
        expanded_table,
        [dataclasses.replace(q, answer=expand_prices(q.answer, figures)) for q in questions],
        [dataclasses.replace(n, body=expand_prices(n.body, figures)) for n in news],
    )


def site_map_of(content: Content) -> SiteMap:
    """The pages and anchors of the site generated from valid `content` (for tools, tests)."""
    plan_texts = [TextRef(note, f"notes[{i}]", 1) for i, note in enumerate(content.plans.notes)]
    plan_texts += [TextRef(p.description, "description", 1) for p in content.plans.plans]
    source = TextSource(
        plans=content.plans,
        plan_texts=[ref for ref in plan_texts if ref.text],
        questions=[
            (q.source.file, Refs(texts=[TextRef(q.answer, "answer", 1)]), q)
            for q in content.questions
        ],
        news=[(n.source.file, Refs(texts=[TextRef(n.body, "body", 1)]), n) for n in content.news],
        categories=content.categories,
        cases=content.recommendations,
        ticket_notes=bool(content.ticket_examples.notes),
        forms_prefix=content.site.forms.base,
        home_popular=bool(content.site.popular),
    )
    table = _priced(content.plans)
    figures = PriceFigures.of(table) if table is not None else None
    return _site_map(source, _texts(source, figures), [])
