"""The pages and heading anchors of the generated site (the URL contract of FORMAT.md).

The templates in `templates/` give every heading an explicit id; the names here are the
ones they emit, so that the loader can reject ids that would repeat one of them on a page
(two elements with one id) and check links to ``/page/#anchor`` before anything is built.
A test renders the pages and compares their ids with `SiteMap`.

Headings that editors write in Markdown get the id MkDocs gives them: an explicit
``{#id}`` or the slug of their text (``toc.slugify`` in mkdocs.yml, mirrored here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

# Site paths of the generated pages that are not one per question, category or news item,
# and of the news feed (the renderer derives its source paths from these).
HOME_PAGE = "/"
FAQ_INDEX_PAGE = "/faq/"
NEWS_INDEX_PAGE = "/news/"
PLANS_PAGE = "/plans/"
GUIDE_PAGE = "/plans/guide/"
TICKETS_PAGE = "/plans/tickets/"
SUPPORT_PAGE = "/support/"
FEED_FILE = "/feed.xml"

# Ids of the fixed headings of each generated page (see the templates).
HOME_ANCHORS = frozenset(
    {"top", "kb-home-search-query", "news", "faq", "forms", "forum", "paid-support"}
)
HOME_POPULAR_ANCHOR = "popular"  # only when site.yml lists `popular` questions
FAQ_INDEX_ANCHORS = frozenset({"faq"})
QUESTION_PAGE_ANCHORS = frozenset({"about", "related", "not-solved"})
NEWS_INDEX_ANCHOR = "news"
PLANS_ANCHORS = frozenset({"plans", "price-table", "finder", "details", "free-vs-paid"})
PLANS_NOTES_ANCHOR = "notes"
GUIDE_ANCHOR = "guide"
TICKETS_ANCHORS = frozenset({"tickets", "inquiries", "solutions"})
TICKETS_NOTES_ANCHOR = "notes"
SUPPORT_ANCHORS = frozenset(
    {
        "support",
        "free",
        "free-services",
        "free-eligibility",
        "free-not-included",
        "paid",
        "paid-services",
        "hours",
        "channels",
        "conditions",
        "ticket-rule",
    }
)

# Ids editors may not choose, per kind: URL segments, and the fixed heading ids of the
# page where the id itself becomes a heading id.
RESERVED_QUESTION_IDS = frozenset({"category"}) | QUESTION_PAGE_ANCHORS
RESERVED_CATEGORY_IDS = frozenset({"category"})
RESERVED_NEWS_IDS = frozenset({NEWS_INDEX_ANCHOR})
RESERVED_CASE_IDS = frozenset({GUIDE_ANCHOR})

# Pages whose anchors the content layer cannot know (hand-written pages in docs/).
OPEN_PAGES = frozenset({"/editors/"})
# Files of the site that are not pages but may be linked to.
SITE_FILES = frozenset({FEED_FILE})


def plan_anchor(code: str) -> str:
    """Anchor of a plan's section on the plans page (``plan-a``)."""
    return f"plan-{code.lower()}"


# --- headings written by editors -------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*$", re.M)
_ATTR_LIST = re.compile(r"\s*\{:?\s*([^}]*)\}\s*$")
_CLOSING_HASHES = re.compile(r"\s+#+\s*$")
# Also used by the renderer's plain text.
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
EMPHASIS = re.compile(r"[*_`]+")
HTML_TAG = re.compile(r"<[^>]+>")
_MARKS = re.compile(f"{EMPHASIS.pattern}|{HTML_TAG.pattern}")


@cache
def _slugify() -> Callable[[str, str], str]:
    """The slug function mkdocs.yml gives to `toc` (pymdownx, lower case)."""
    from pymdownx.slugs import slugify

    slug: Callable[[str, str], str] = slugify(case="lower")
    return slug


def mask_code(markdown: str) -> str:
    """`markdown` with fenced code blocks blanked out (same length, same line breaks)."""
    if "```" not in markdown and "~~~" not in markdown:
        return markdown
    return _FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), markdown)


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading an editor wrote: its id, whether the id was explicit, its line offset."""

    id: str
    explicit: bool
    line: int  # 0-based line within the Markdown text


def headings(markdown: str, taken: Iterable[str]) -> list[Heading]:
    """The ids MkDocs gives the ATX headings of `markdown` on a page whose other ids are `taken`.

    Like Python-Markdown's toc: explicit ids are kept; other headings get the slug of their
    text, made unique with ``_1``, ``_2``... against every id already on the page.
    """
    text = mask_code(markdown)
    found: list[tuple[str, bool, int]] = []
    for match in _HEADING.finditer(text):
        title = _CLOSING_HASHES.sub("", match.group(2))
        line = text.count("\n", 0, match.start())
        attrs = _ATTR_LIST.search(title)
        given = re.search(r"(?:^|\s)#([^\s}]+)", attrs.group(1)) if attrs else None
        if given:
            found.append((given.group(1), True, line))
        else:
            plain = _MARKS.sub("", INLINE_LINK.sub(r"\1", title))
            found.append((plain, False, line))
    used = set(taken) | {value for value, explicit, _ in found if explicit}
    result: list[Heading] = []
    for value, explicit, line in found:
        if explicit:
            result.append(Heading(value, True, line))
            continue
        slug = base = _slugify()(value, "-")
        count = 0
        while slug in used:
            count += 1
            slug = f"{base}_{count}"
        used.add(slug)
        result.append(Heading(slug, False, line))
    return result


# --- the map of the site ----------------------------------------------------------------


@dataclass(slots=True)
class SiteMap:
    """Site paths (``/faq/<id>/``) and the anchors of each generated page.

    `drafts` are question pages that exist in the content but are not published;
    `unknown` are paths of files that could not be read (links to them are not reported,
    the file's own problem is).
    """

    pages: dict[str, set[str]] = field(default_factory=dict)
    drafts: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    def add(self, path: str, anchors: Iterable[str] = ()) -> None:
        self.pages.setdefault(path, set()).update(anchors)


def question_path(question_id: str) -> str:
    return f"/faq/{question_id}/"


def category_path(category_id: str) -> str:
    return f"/faq/category/{category_id}/"


def news_path(news_id: str) -> str:
    return f"/news/{news_id}/"


def fixed_pages(
    *,
    category_ids: Iterable[str],
    news_ids: Iterable[str],
    case_ids: Iterable[str],
    plan_codes: Iterable[str],
    plan_notes: bool,
    ticket_notes: bool,
    home_popular: bool = False,
) -> SiteMap:
    """Every generated page except question and news item pages, with its anchors."""
    site = SiteMap()
    site.add(HOME_PAGE, HOME_ANCHORS | ({HOME_POPULAR_ANCHOR} if home_popular else set()))
    site.add(FAQ_INDEX_PAGE, FAQ_INDEX_ANCHORS)
    for category_id in category_ids:
        site.add(category_path(category_id), {category_id})
    site.add(NEWS_INDEX_PAGE, {NEWS_INDEX_ANCHOR, *news_ids})
    plans = set(PLANS_ANCHORS) | {plan_anchor(code) for code in plan_codes}
    if plan_notes:
        plans.add(PLANS_NOTES_ANCHOR)
    site.add(PLANS_PAGE, plans)
    site.add(GUIDE_PAGE, {GUIDE_ANCHOR, *case_ids})
    tickets = set(TICKETS_ANCHORS) | ({TICKETS_NOTES_ANCHOR} if ticket_notes else set())
    site.add(TICKETS_PAGE, tickets)
    site.add(SUPPORT_PAGE, SUPPORT_ANCHORS)
    for path in OPEN_PAGES:
        site.add(path)
    return site
