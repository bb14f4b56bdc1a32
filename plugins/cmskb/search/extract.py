"""What the search indexes of a built page: its title, keywords and sections of text.

Works on the HTML any builder writes (MkDocs with Material, or Zensical), so the same
search serves both. Only the page's main ``<article>`` (else ``<main>``, else ``<body>``)
is read; it is cut out by plain string search and taken apart with a few regular
expressions, which at 10,000 pages is several times faster than an HTML parser. Left out:

* elements carrying a ``data-search-exclude`` attribute (the generated pages mark their
  related-question lists and similar repeated parts with it), or ``data-kb-search-exclude``
  (Zensical consumes the first and drops it from its output, so the exported project
  carries both, see `cmskb.zensical.project`);
* navigation, forms, scripts, styles, SVG and heading permalinks (the ¶ signs);
* a whole page that says ``<meta name="robots" content="noindex">`` or whose article
  carries ``data-search-exclude``.

Each ``<h2>``/``<h3>`` with an id starts a section, so a match deep in a long page (the
plans page) leads to its heading. ``<meta name="keywords">`` gives the page's keywords.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

EXCLUDE_ATTR = "data-search-exclude"
KB_EXCLUDE_ATTR = "data-kb-search-exclude"
_EXCLUDE_MARK = "search-exclude"  # found in both attributes

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EXCLUDED_OPEN = re.compile(
    rf"<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*\b(?:{EXCLUDE_ATTR}|{KB_EXCLUDE_ATTR})\b[^>]*>"
)
_DROPPED = re.compile(
    r"<(nav|form|script|style|svg|template|noscript|button|select)\b[^>]*>.*?</\1\s*>", re.S | re.I
)
_HEADERLINK = re.compile(r"<a\b[^>]*\bclass=\"headerlink\"[^>]*>.*?</a>", re.S)
_HEADING = re.compile(r"<(h[1-3])\b([^>]*)>(.*?)</\1\s*>", re.S | re.I)
_ID = re.compile(r"""\bid\s*=\s*["']?([^"'\s>]+)""")
# Tags inside a line of text: removing them must not split a word. Others end a block.
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|bdi|cite|code|em|i|kbd|mark|q|s|small|span|strong|sub|sup|time|u|var"
    r"|ruby|rb)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]*>")
_META = re.compile(r"<meta\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Section:
    """A part of a page: the text before the first heading (anchor None) or under one."""

    anchor: str | None
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class PageText:
    """What the search knows of one page."""

    url: str  # site-relative, e.g. "faq/password-reset/"
    title: str
    keywords: tuple[str, ...]
    sections: tuple[Section, ...]


def page_text(url: str, page: bytes) -> PageText | None:
    """The searchable parts of a built page (UTF-8), or None when it opts out of search.

    Only the head and the main element are decoded: most of a page's bytes are its
    navigation, which the search never reads.
    """
    head_end = page.find(b"</head>")
    head = page[: max(head_end, 0)].decode("utf-8", "replace")
    metas = _meta_values(head)
    if "noindex" in metas.get("robots", "").lower():
        return None
    body = _main_fragment(page, max(head_end, 0))
    if body is None:
        return None
    title, sections = _sections(_strip(body))
    if not title:
        title = _title_element(head) or url
    keywords = tuple(k.strip() for k in metas.get("keywords", "").split(",") if k.strip())
    return PageText(url=url, title=title, keywords=keywords, sections=tuple(sections))


def _meta_values(head: str) -> dict[str, str]:
    """The head's ``<meta name=... content=...>`` values that the search reads."""
    values: dict[str, str] = {}
    for tag in _META.findall(head):
        if "keywords" not in tag and "robots" not in tag:
            continue
        attrs = {m[0].lower(): html.unescape(m[1] or m[2]) for m in _ATTR.findall(tag)}
        if "name" in attrs and "content" in attrs:
            values[attrs["name"].lower()] = attrs["content"]
    return values


def _title_element(head: str) -> str:
    start = head.find("<title>")
    end = head.find("</title>", start)
    return _text(head[start + 7 : end]) if start >= 0 and end > start else ""


def _main_fragment(page: bytes, start_at: int) -> str | None:
    """The article (or main, or body) element's inner HTML; None if it is excluded."""
    for tag in (b"article", b"main", b"body"):
        start = page.find(b"<" + tag, start_at)
        if start < 0:
            continue
        open_end = page.find(b">", start)
        end = page.rfind(b"</" + tag + b">")
        if open_end < 0 or end < open_end:
            continue
        if _EXCLUDE_MARK.encode() in page[start:open_end]:
            return None
        return page[open_end + 1 : end].decode("utf-8", "replace")
    return None


def _strip(fragment: str) -> str:
    """The fragment without comments, excluded and non-text elements, and permalinks."""
    fragment = _COMMENT.sub("", fragment)
    if _EXCLUDE_MARK in fragment:
        fragment = _without_excluded(fragment)
    fragment = _DROPPED.sub(" ", fragment)
    return _HEADERLINK.sub("", fragment)


def _without_excluded(fragment: str) -> str:
    """Remove every element that carries the exclude attribute (with what it holds)."""
    while (found := _EXCLUDED_OPEN.search(fragment)) is not None:
        name = found.group(1)
        same = re.compile(rf"<(/?){name}\b[^>]*>", re.I)
        depth, end = 1, len(fragment)
        for tag in same.finditer(fragment, found.end()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                end = tag.end()
                break
        fragment = fragment[: found.start()] + " " + fragment[end:]
    return fragment


def _sections(fragment: str) -> tuple[str, list[Section]]:
    """The h1 text, and the sections: the text before the first h2/h3, then one each."""
    title = ""
    parts: list[list[str | None]] = [[None, "", ""]]  # [anchor, heading, text]
    pos = 0
    for match in _HEADING.finditer(fragment):
        parts[-1][2] = f"{parts[-1][2]} {_text(fragment[pos : match.start()])}"
        pos = match.end()
        if match.group(1).lower() == "h1":
            title = title or _text(match.group(3))
        else:
            found = _ID.search(match.group(2))
            parts.append([found.group(1) if found else None, _text(match.group(3)), ""])
    parts[-1][2] = f"{parts[-1][2]} {_text(fragment[pos:])}"
    sections = [Section(None, title, (parts[0][2] or "").strip())]
    sections += [
        Section(anchor, heading or "", (text or "").strip())
        for anchor, heading, text in parts[1:]
        if heading or (text or "").strip()
    ]
    return title, sections


def _text(raw: str) -> str:
    raw = _INLINE_TAG.sub("", raw)
    raw = _TAG.sub(" ", raw)
    return _SPACES.sub(" ", html.unescape(raw)).strip()
