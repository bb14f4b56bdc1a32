"""Render validated content to the Markdown pages of the site.

`render_pages(content)` returns ``{src_uri: markdown}`` for every generated page, following
the URL contract in FORMAT.md (``faq/<id>/index.md`` becomes ``/faq/<id>/``). The Markdown
uses the attr_list and md_in_html extensions. Nothing here imports mkdocs, so another
builder can take the same tree (see `write_pages`).

Templates are compiled once, on first use, by one module-level Jinja2 environment.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path, PurePosixPath

import jinja2

from cmskb.formats import date_ja

from .anchors import (
    EMPHASIS,
    FAQ_INDEX_PAGE,
    FEED_FILE,
    GUIDE_PAGE,
    HOME_PAGE,
    HTML_TAG,
    INLINE_LINK,
    NEWS_INDEX_PAGE,
    PLANS_PAGE,
    SUPPORT_PAGE,
    TICKETS_PAGE,
    category_path,
    news_path,
    plan_anchor,
    question_path,
)
from .model import Category, Content, NewsItem, PlanKind, Question
from .money import per_ticket, percent, yen


def _source_of(site_path: str) -> str:
    """The source path MkDocs serves at `site_path` (``/faq/x/`` → ``faq/x/index.md``)."""
    return site_path.lstrip("/") + "index.md"


HOME_URI = _source_of(HOME_PAGE)
FAQ_INDEX_URI = _source_of(FAQ_INDEX_PAGE)
NEWS_INDEX_URI = _source_of(NEWS_INDEX_PAGE)
PLANS_URI = _source_of(PLANS_PAGE)
GUIDE_URI = _source_of(GUIDE_PAGE)
TICKETS_URI = _source_of(TICKETS_PAGE)
SUPPORT_URI = _source_of(SUPPORT_PAGE)
FEED_PATH = FEED_FILE.lstrip("/")
LATEST_NEWS_ON_HOME = 5

_ANSWER_START = "<!-- kb:answer -->"
_ANSWER_END = "<!-- /kb:answer -->"


def question_uri(question_id: str) -> str:
    """Source path of a question page: ``/faq/<id>/``."""
    return _source_of(question_path(question_id))


def category_uri(category_id: str) -> str:
    """Source path of a category page: ``/faq/category/<id>/``."""
    return _source_of(category_path(category_id))


def news_uri(news_id: str) -> str:
    """Source path of a news item page: ``/news/<id>/``."""
    return _source_of(news_path(news_id))


# --- escaping and formatting filters -------------------------------------------------

# Characters Python-Markdown accepts after a backslash (with the tables extension's "|"),
# and the HTML specials, escaped in one pass.
_MD_ESCAPES = str.maketrans(
    {ch: "\\" + ch for ch in "\\`*_{}[]()#+-.!|"}
    | {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
)
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
# Japanese and full-width characters: a line break between two of them is not a space.
_WIDE = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_WIDE_GAP = re.compile(rf"(?<=[{_WIDE}])\s+(?=[{_WIDE}])")
_SPACE = re.compile(r"\s")


def one_line(text: str) -> str:
    """Join lines into one, without the space YAML folding puts between Japanese words."""
    text = str(text)
    if not _SPACE.search(text):
        return text
    return _WIDE_GAP.sub("", " ".join(text.split()))


def escape_html(text: str) -> str:
    """Escape text for HTML content and double-quoted attributes."""
    return str(text).translate(_HTML_ESCAPES)


def escape_md(text: str) -> str:
    """Escape plain text so that Markdown shows it literally (inline, one line).

    HTML specials become entities, Markdown specials get a backslash, and line breaks
    become spaces so that the text cannot start a new block.
    """
    return one_line(text).translate(_MD_ESCAPES)


_FENCE = re.compile(r"```.*?```", re.S)  # any ``` pair (anchors._FENCE: whole lines only)
_BLOCK_MARK = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s*|>\s?|[-*+]\s+|\d+\.\s+)")


def plain_text(markdown: str) -> str:
    """A plain-text rendering of Markdown for descriptions, the feed and JSON-LD."""
    text = _FENCE.sub(" ", markdown) if "```" in markdown else markdown
    if "](" in text:
        text = INLINE_LINK.sub(lambda m: m.group(1), text)
    if "<" in text:
        text = HTML_TAG.sub("", text)
    text = _BLOCK_MARK.sub("", text)
    text = EMPHASIS.sub("", text)
    return one_line(text)


def summary(markdown: str, limit: int = 110) -> str:
    """Plain text cut to `limit` characters, with an ellipsis when cut."""
    text = plain_text(markdown)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# A site-absolute link in editors' Markdown: ](/faq/some-id/) or ](/plans/#notes "title")
_SITE_LINK = re.compile(r"\]\(/((?:[A-Za-z0-9._~-]+/)*)(#[^)\s]*)?(\s+\"[^\"]*\")?\)")


def localize_links(markdown: str, page_uri: str, keep_prefix: str = "/forms/") -> str:
    """Turn site-absolute links (``/faq/<id>/``) into relative links to source pages.

    Editors write URLs of the URL contract; as links to ``.md`` sources MkDocs checks
    them (a broken one fails ``--strict``) and they work under any site path. Links under
    `keep_prefix` (the forms sidecar) are left alone.
    """
    if "](/" not in markdown:
        return markdown
    here = posixpath.dirname(page_uri) or "."

    def relative(match: re.Match[str]) -> str:
        path, anchor, title = match.group(1), match.group(2) or "", match.group(3) or ""
        if ("/" + path).startswith(keep_prefix):
            return match.group(0)
        return f"]({_relpath(path + 'index.md', here)}{anchor}{title})"

    return _SITE_LINK.sub(relative, markdown)


@cache
def _relpath(target: str, start: str) -> str:
    return posixpath.relpath(target, start)


def front_matter(title: str | None, description: str, keywords: Iterable[str] = ()) -> str:
    """YAML front matter with the page title (if any), meta description and keywords.

    The values are HTML-escaped because the theme writes ``page.meta`` into the head
    without escaping; JSON strings are valid YAML scalars. Keywords feed the site search.
    """
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {json.dumps(escape_html(title), ensure_ascii=False)}")
    lines.append(f"description: {json.dumps(escape_html(description), ensure_ascii=False)}")
    words = [escape_html(k) for k in dict.fromkeys(keywords)]
    if words:
        lines.append(f"keywords: {json.dumps(words, ensure_ascii=False)}")
    return "\n".join(lines) + "\n---\n"


# --- the template environment --------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    """The one Jinja2 environment; templates are compiled once and cached."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cmskb.content", "templates"),
        autoescape=False,  # the output is Markdown; values are escaped with `md`/`attr`
        # "{#" starts Markdown attribute lists ({#question-id}), so comments use "{!-- --}".
        comment_start_string="{!--",
        comment_end_string="--}",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters.update(
        md=escape_md,
        attr=escape_html,
        yen=yen,
        date_ja=date_ja,
        summary=summary,
    )
    return env


@cache
def _template(name: str) -> Callable[..., str]:
    return _environment().get_template(name).render


# --- pages ---------------------------------------------------------------------------


def render_pages(content: Content, *, finder_markup: str = "") -> dict[str, str]:
    """Markdown for every generated page, keyed by source path (``faq/<id>/index.md``).

    `finder_markup` (the plan finder's HTML block, see `cmskb.site_files`) goes on the
    plans page.
    """
    pages: dict[str, str] = {}
    categories = {c.id: c for c in content.categories}
    by_category = _group_questions(content)
    published = {q.id: q for q in content.published_questions}
    news = list(content.news)  # newest first (Content.news)
    pages[HOME_URI] = _render_home(content, news, by_category)
    pages[FAQ_INDEX_URI] = _render_faq_index(content, by_category)
    for category in content.categories:
        pages[category_uri(category.id)] = _render_category(category, by_category[category.id])
    render_question = _template("question.md.j2")
    forms = content.site.forms.base
    crumbs = {c.id: _question_breadcrumbs(c) for c in content.categories}
    product_names = {p.id: p.name for p in content.site.products}
    for question in published.values():
        uri = question_uri(question.id)
        pages[uri] = render_question(
            q=question,
            answer=localize_links(question.answer, uri, forms),
            category=categories[question.category],
            breadcrumbs=crumbs[question.category],
            products=[product_names[p] for p in question.products],
            related=[published[r] for r in question.related if r in published],
            description=summary(question.answer),
            front_matter=front_matter,
            answer_start=_ANSWER_START,
            answer_end=_ANSWER_END,
            forms=content.site.forms,
        )
    pages[NEWS_INDEX_URI] = _template("news_index.md.j2")(
        site=content.site, news=news, feed=FEED_PATH, front_matter=front_matter
    )
    render_item = _template("news_item.md.j2")
    for item in content.news:
        uri = news_uri(item.id)
        pages[uri] = render_item(
            item=item,
            body=localize_links(item.body, uri, forms),
            description=summary(item.body),
            front_matter=front_matter,
        )
    pages[PLANS_URI] = render_plans(content, finder_markup)
    pages[GUIDE_URI] = _render_guide(content)
    ticket_rule = content.plans.rules.ticket_rule
    pages[TICKETS_URI] = _template("tickets.md.j2")(
        examples=content.ticket_examples, ticket_rule=ticket_rule, front_matter=front_matter
    )
    pages[SUPPORT_URI] = _template("support.md.j2")(
        site=content.site,
        support=content.support,
        ticket_rule=ticket_rule,
        front_matter=front_matter,
    )
    return pages


def render_plans(content: Content, finder_markup: str = "") -> str:
    """The plans page; `finder_markup` (an HTML block) is placed after the price table."""
    table = content.plans
    forms = content.site.forms.base
    rows = [
        {
            "plan": plan,
            "description": localize_links(plan.description, PLANS_URI, forms),
            "incl": yen(table.price_incl_tax(plan)),
            "excl": yen(plan.price_excl_tax),
            "per_ticket": per_ticket(table, plan),
            "anchor": plan_anchor(plan.code),
            "audience": _AUDIENCE_LABELS[plan.available_to.value],
        }
        for plan in table.plans
    ]
    return _template("plans.md.j2")(
        site=content.site,
        table=table,
        rows=rows,
        tax_percent=percent(table.tax.rate),
        # the rounding rule is stated only where some price has a fraction of a yen
        fractions=any(
            (plan.price_excl_tax * (1 + table.tax.rate)) % 1 for plan in table.plans
        ),
        support=content.support,
        notes=[localize_links(note, PLANS_URI, forms) for note in table.notes],
        finder_markup=finder_markup.strip(),
        front_matter=front_matter,
        PlanKind=PlanKind,
    )


def answer_html(page_html: str) -> str | None:
    """The answer's HTML cut from a rendered question page (None when the markers are gone)."""
    start = page_html.find(_ANSWER_START)
    end = page_html.find(_ANSWER_END, start + 1)
    if start < 0 or end < 0:
        return None
    return page_html[start + len(_ANSWER_START) : end].strip()


class UnsafePathError(ValueError):
    """A generated file's path would leave the folder it is written to."""


def safe_target(target: Path, src_uri: str) -> Path:
    """Where `src_uri` goes under `target`; UnsafePathError for paths that would leave it."""
    relative = PurePosixPath(src_uri)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise UnsafePathError(f"unsafe path for a generated file: {src_uri!r}")
    return target.joinpath(*relative.parts)


def write_pages(pages: dict[str, str], target: Path) -> list[Path]:
    """Write generated files under `target` (for builders other than MkDocs).

    Every path is checked before anything is written.
    """
    paths = {src_uri: safe_target(target, src_uri) for src_uri in pages}
    for src_uri, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pages[src_uri], encoding="utf-8")
    return list(paths.values())


# --- helpers -------------------------------------------------------------------------

_AUDIENCE_LABELS = {
    "anyone": "どなたでも",
    "contract_holders": "年間サポートをご契約中の方",
    "non_contract_holders": "年間サポートをご契約でない方",
}


def _group_questions(content: Content) -> dict[str, list[Question]]:
    groups: dict[str, list[Question]] = {c.id: [] for c in content.categories}
    for question in content.published_questions:
        groups.setdefault(question.category, []).append(question)
    return groups


def _render_home(
    content: Content, news: list[NewsItem], by_category: dict[str, list[Question]]
) -> str:
    """The home page; `news` is newest first."""
    published = {q.id: q for q in content.published_questions}
    return _template("home.md.j2")(
        site=content.site,
        popular=[published[i] for i in content.site.popular if i in published],
        feed=FEED_PATH,
        news=news[:LATEST_NEWS_ON_HOME],
        categories=_with_counts(content.categories, by_category),
        front_matter=front_matter,
    )


def _render_faq_index(content: Content, by_category: dict[str, list[Question]]) -> str:
    return _template("faq_index.md.j2")(
        site=content.site,
        categories=_with_counts(content.categories, by_category),
        front_matter=front_matter,
    )


def _render_category(category: Category, questions: list[Question]) -> str:
    return _template("category.md.j2")(
        category=category, questions=questions, front_matter=front_matter
    )


def _render_guide(content: Content) -> str:
    table = content.plans
    cases = [
        {
            "case": case,
            "plans": [table.plan(code) for code in case.plans],
        }
        for case in content.recommendations
    ]
    return _template("guide.md.j2")(
        cases=cases, plan_anchor=plan_anchor, front_matter=front_matter
    )


def _question_breadcrumbs(category: Category) -> str:
    """The breadcrumbs of a question page (the same for every question of a category)."""
    macros = _environment().get_template("_macros.md.j2").module
    trail = [("よくあるご質問", FAQ_INDEX_URI), (category.title, category_uri(category.id))]
    return str(macros.breadcrumbs("../../", trail))  # type: ignore[attr-defined]


def _with_counts(
    categories: Iterable[Category], by_category: dict[str, list[Question]]
) -> list[tuple[Category, int]]:
    return [(c, len(by_category.get(c.id, ()))) for c in categories]
