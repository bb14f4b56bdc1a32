"""Every generated part of the site, for MkDocs and for any other builder.

One generator, two adapters: `generate(content, site_url=...)` returns the Markdown pages
(src_uri -> text) with the plan finder placed on the plans page, the static files (site
path -> text: the finder's and the search's scripts, the RSS feed), the FAQ categories to
list in the navigation, the pages kept out of it, the FAQPage JSON-LD of the question and
category pages and the values the theme templates read (`config.extra.kb`). The MkDocs
plugin hands these to MkDocs during its build; `cmskb export` writes them into a project
for another builder (`cmskb.zensical`), so the two never drift apart. The search index is
built over the built site afterwards, whatever built it (`cmskb.search.site`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmskb.content.anchors import news_path
from cmskb.content.model import Content, Question
from cmskb.content.render import (
    FEED_PATH,
    category_uri,
    news_uri,
    question_uri,
    render_pages,
)
from cmskb.feed import build_rss
from cmskb.finder.page import finder_assets, finder_markup
from cmskb.finder.search import FinderTableError
from cmskb.frame import FRAME_SRC, frame_links, frame_page
from cmskb.search.site import browser_assets, worker_url
from cmskb.structured_data import (
    AnswerRenderer,
    JsonLd,
    category_json_ld,
    question_json_ld,
)

FEED_TITLE_SUFFIX = "お知らせ"
FEED_ITEMS = 20
# What the search dialog says when nothing matches (kb.js then offers where to go).
SEARCH_NONE = "該当するページが見つかりませんでした"
# `not_in_nav` patterns (gitignore style, from the docs folder) of the question and news
# item pages, for builders that read them from the configuration.
NOT_IN_NAV_PATTERNS = ("/faq/*/index.md", "/news/*/index.md", f"/{FRAME_SRC}")


class SiteFilesError(ValueError):
    """The content is valid but a generated part cannot be built (message for editors)."""


@dataclass(frozen=True, slots=True)
class SiteFiles:
    pages: dict[str, str]  # Markdown, keyed by src_uri
    assets: dict[str, str]  # static files, keyed by site-relative path
    nav: list[tuple[str, str]] = field(default_factory=list)  # (title, src_uri) of categories
    hidden: frozenset[str] = frozenset()  # src_uris kept out of the navigation
    extra: dict[str, Any] = field(default_factory=dict)  # config.extra.kb for the templates


def generate(
    content: Content,
    *,
    site_url: str | None = None,
    feed_items: int = FEED_ITEMS,
    search: bool = True,
    search_dialog: str = "material",
) -> SiteFiles:
    """Render every page (each once), the finder's, search's and feed's files.

    `search_dialog` names who shows the search dialog: ``material`` (Material's own,
    talking to our worker) or ``kb`` (our dialog, for builders without Material's script).
    """
    try:
        markup = finder_markup(content)
        assets = finder_assets(content)
    except FinderTableError as exc:  # the loader checks the table shape: not expected
        raise SiteFilesError(f"plans.yml: プランファインダーを作れません: {exc}") from exc
    assets = {**assets, FEED_PATH: feed_xml(content, site_url, feed_items)}
    if search:
        assets.update(browser_assets())
    hidden = {question_uri(q.id) for q in content.published_questions}
    hidden.update(news_uri(n.id) for n in content.news)
    hidden.add(FRAME_SRC)
    # The frame other pages are rendered in (cmskb.frame): the forms sidecar's pages.
    pages = render_pages(content, finder_markup=markup)
    pages[FRAME_SRC] = frame_page(frame_links(content))
    return SiteFiles(
        pages=pages,
        assets=assets,
        nav=[(c.title, category_uri(c.id)) for c in content.categories],
        hidden=frozenset(hidden),
        extra=template_values(content, search=search, search_dialog=search_dialog),
    )


def template_values(content: Content, *, search: bool, search_dialog: str) -> dict[str, Any]:
    """What the theme overrides read from ``config.extra.kb`` (docs/overrides/main.html)."""
    forms = content.site.forms
    values: dict[str, Any] = {
        "feed": {"path": FEED_PATH, "title": feed_title(content)},
        "forms": {
            "base": forms.base,
            "feedback": forms.feedback,
            "docs_request": forms.docs_request,
            "status": forms.status,
        },
    }
    if search:
        values["search"] = {"worker": worker_url(), "none": SEARCH_NONE, "dialog": search_dialog}
    return values


def feed_title(content: Content) -> str:
    """Title of the news feed (RSS channel and the pages' feed link)."""
    return f"{content.site.name} {FEED_TITLE_SUFFIX}"


def feed_xml(content: Content, site_url: str | None, items: int = FEED_ITEMS) -> str:
    """The RSS feed of the newest `items` news items (absolute links need `site_url`)."""
    base = site_url or "/"

    def url(path: str) -> str:
        return base.rstrip("/") + "/" + path.lstrip("/")

    data = build_rss(
        title=feed_title(content),
        description=content.site.description,
        site_url=url(""),
        feed_url=url(FEED_PATH),
        items=content.news[:items],  # the loader orders them newest first
        item_url=lambda item: url(news_path(item.id)),
    )
    return data.decode("utf-8")


class StructuredData:
    """The FAQPage JSON-LD of each question and category page, made on demand.

    Each answer is rendered once; with `release` (a builder that asks once per page, as
    the MkDocs plugin does) an answer is dropped once both of its pages have taken it.
    """

    def __init__(self, content: Content, site_url: str | None, *, release: bool = False) -> None:
        published = content.published_questions
        self._site_url = site_url
        self._questions = {question_uri(q.id): q for q in published}
        by_category: dict[str, list[Question]] = {c.id: [] for c in content.categories}
        for question in published:
            by_category.setdefault(question.category, []).append(question)
        self._categories = {category_uri(c.id): by_category[c.id] for c in content.categories}
        self._render = AnswerRenderer(site_url)
        self._answers: dict[str, str] = {}
        self._uses: dict[str, int] = {}
        self._release = release

    def __contains__(self, src_uri: object) -> bool:
        return src_uri in self._questions or src_uri in self._categories

    @property
    def pages(self) -> list[str]:
        return [*self._categories, *self._questions]

    def for_page(self, src_uri: str) -> JsonLd | None:
        """The JSON-LD of the page at `src_uri`, or None for a page without one."""
        if src_uri in self._questions:
            question = self._questions[src_uri]
            return question_json_ld(question, self._answer(question), self._site_url)
        if src_uri in self._categories:
            questions = self._categories[src_uri]
            answers = {q.id: self._answer(q) for q in questions}
            return category_json_ld(questions, answers, self._site_url)
        return None

    def _answer(self, question: Question) -> str:
        answer = self._answers.get(question.id)
        if answer is None:
            answer = self._answers[question.id] = self._render(question.answer)
        if self._release:
            uses = self._uses[question.id] = self._uses.get(question.id, 0) + 1
            if uses >= 2:  # its question page and its category page
                del self._answers[question.id]
        return answer


def insert_after(nav: list[Any], anchor: str, entries: list[dict[Any, str]]) -> bool:
    """Insert `entries` after the nav item whose target is `anchor` (depth-first)."""
    for index, item in enumerate(nav):
        target = next(iter(item.values())) if isinstance(item, dict) else item
        if target == anchor:
            known = {next(iter(e.values())) for e in nav if isinstance(e, dict)}
            nav[index + 1 : index + 1] = [e for e in entries if next(iter(e.values())) not in known]
            return True
        if isinstance(target, list) and insert_after(target, anchor, entries):
            return True
    return False


