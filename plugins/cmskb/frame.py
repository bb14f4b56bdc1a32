"""The site's frame: one built page whose header, tabs, search and footer other pages reuse.

Both builders build the page `FRAME_SRC` (not in the navigation, ``noindex``, kept out of
the search index and the sitemap) like any other page of the theme; its content area holds
only the two markers `START_ID` and `END_ID`. `parse_frame` cuts the built HTML there into
a `Frame`: what comes before the content (head, header, tabs, sidebar) and what comes after
(footer, scripts), with every relative address made absolute (the frame is reused at other
paths) and the frame's own title replaced by each page's. Pages made from it therefore
follow any change of theme, palette, navigation or search with the next build.

Who uses it: the forms sidecar renders its customer pages inside it (forms_app.frame), and
`finish_site` writes the static error pages nginx serves itself (a body too big for
/forms/, the sidecar down) into the built site from it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from cmskb.content.anchors import question_path
from cmskb.content.model import Content

FRAME_DIR = "site-frame"
FRAME_SRC = f"{FRAME_DIR}/index.md"
FRAME_FILE = f"{FRAME_DIR}/index.html"
FRAME_URL = f"/{FRAME_DIR}/"
FRAME_TITLE = "サイトの枠"
START_ID = "kb-frame-start"
END_ID = "kb-frame-end"
# Where the skip link of a page made from the frame leads (its content starts there).
CONTENT_ID = "kb-content"
ERRORS_DIR = "errors"
# The question that explains support IDs: the forms link their support-ID hint and error to it.
SUPPORT_ID_QUESTION = "support-id"
# Pages of the site the forms link to, taken from content at build time and carried by the
# frame (data attributes of its end marker), so the sidecar never guesses a URL:
# support_id: the support-ID question; example: a real question, the example page address.
LINK_NAMES = ("support_id", "example")


class FrameError(ValueError):
    """The built frame is missing or is not the page this module expects."""


def frame_links(content: Content) -> dict[str, str]:
    """The site pages the forms link to (`LINK_NAMES`), from `content` (None: not there)."""
    published = content.published_questions
    links = {}
    if any(q.id == SUPPORT_ID_QUESTION for q in published):
        links["support_id"] = question_path(SUPPORT_ID_QUESTION)
    order = {c.id: i for i, c in enumerate(content.categories)}
    first = min(published, key=lambda q: order.get(q.category, len(order)), default=None)
    if first is not None:
        links["example"] = question_path(first.id)
    return links


def frame_page(links: Mapping[str, str] | None = None) -> str:
    """The frame's Markdown source (front matter read by docs/overrides/main.html)."""
    data = "".join(
        f' data-{name.replace("_", "-")}="{html.escape(url)}"'
        for name, url in sorted((links or {}).items())
    )
    return (
        "---\n"
        f"title: {FRAME_TITLE}\n"
        "robots: noindex\n"
        "hide:\n"
        "  - toc\n"
        "---\n\n"
        f"# {FRAME_TITLE} {{#{START_ID}}}\n\n"
        "このページは、ご連絡フォームなどのページが使うサイトの枠です。\n\n"
        f'<div id="{END_ID}"{data}></div>\n'
    )


@dataclass(frozen=True, slots=True)
class Frame:
    """A built frame cut at its content, ready to wrap other pages' content.

    `head` and `top` are split wherever the frame's title stood: `render_head(title)` and
    `render_top(title)` join them with the page's own (escaped) title.
    """

    head: tuple[str, ...]  # up to (not including) </head>
    top: tuple[str, ...]  # from </head> to the content
    bottom: str  # after the content, up to (not including) </body>
    end: str  # </body></html>
    script_hashes: tuple[str, ...]  # CSP sources ('sha256-...') of its inline scripts
    links: Mapping[str, str]  # site pages the forms link to (frame_links), by LINK_NAMES

    def render_head(self, title: str) -> str:
        return html.escape(title, quote=False).join(self.head)

    def render_top(self, title: str, *, current: str | None = None) -> str:
        """The frame from </head> to the content; `current`, the page's own path, is shown
        as the current page among the drawer's links (as on the site's pages)."""
        top = html.escape(title, quote=False).join(self.top)
        if current:
            link = f'<a href="{html.escape(current)}" class="md-nav__link">'
            top = top.replace(link, link[:-2] + ' md-nav__link--active" aria-current="page">')
        return top

    def page(self, title: str, content: str, *, head_extra: str = "") -> str:
        """A whole page: `content` (HTML) in the frame, titled `title` (plain text)."""
        return (
            self.render_head(title) + head_extra + self.render_top(title)
            + f'<div id="{CONTENT_ID}">{content}</div>' + self.bottom + self.end
        )


_ATTRIBUTE = re.compile(r'(\s(?:href|src|action|poster|data-kb-worker)=)"([^"]*)"')
_SCOPE = re.compile(r'new URL\("([^"]*)",location\)')
_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
# The frame's own canonical/prev/next links, description and noindex are its own: each page
# made from it describes itself and says whether it may be indexed.
_DROPPED_HEAD = re.compile(
    r'\s*<link rel="(?:canonical|prev|next)" href="[^"]*">'
    r'|\s*<meta name="(?:robots|description)" content="[^"]*">'
)
_START = re.compile(rf'<h1\b[^>]*\bid="{START_ID}"')
_END = re.compile(rf'<div\b[^>]*\bid="{END_ID}"[^>]*>\s*</div>')
_SKIP = re.compile(rf'href="#{START_ID}"')
_TAB = re.compile(r'<li class="md-tabs__item">(\s*<a href="([^"]*)")')
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _absolute(url: str, base: str) -> str:
    """`url` resolved against `base` when it is relative to the page, else as it is."""
    if not url or url.startswith(("/", "#", "?")) or urlsplit(url).scheme:
        return url
    return urljoin(base, url)


def _rewrite_attribute(match: re.Match[str], base: str) -> str:
    value = html.unescape(match.group(2))
    return f'{match.group(1)}"{html.escape(_absolute(value, base), quote=True)}"'


def _rewrite_config(match: re.Match[str], base: str) -> str:
    config = json.loads(match.group(2))
    for key in ("base", "search"):
        if isinstance(config.get(key), str):
            config[key] = _absolute(config[key], base)
    text = json.dumps(config, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)
    return match.group(1) + text + match.group(3)


def script_hash(source: str) -> str:
    """The CSP source that allows the inline script `source` ('sha256-...')."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _mark_active_tab(text: str, section: str) -> str:
    """Show the tab whose link leads into `section` (e.g. /forms/) as the current one."""

    def mark(match: re.Match[str]) -> str:
        if not match.group(2).startswith(section):
            return match.group(0)
        return f'<li class="md-tabs__item md-tabs__item--active">{match.group(1)}'

    return _TAB.sub(mark, text)


def parse_frame(text: str, *, frame_url: str = FRAME_URL, section: str | None = None) -> Frame:
    """Cut the built frame page `text` into a `Frame` (raises FrameError when it is not one).

    Relative addresses are resolved against `frame_url` (where the frame was built for);
    `section`, a path such as ``/forms/``, marks the tab leading there as the current one.
    """
    start, end = _START.search(text), _END.search(text)
    head_end, body_end = text.find("</head>"), text.rfind("</body>")
    if start is None or end is None or end.start() < start.start():
        raise FrameError(
            f"the built frame has no content markers (#{START_ID}, #{END_ID}): "
            f"is it the page {FRAME_FILE} that cmskb builds?"
        )
    if not 0 <= head_end < start.start() or body_end < end.end():
        raise FrameError("the built frame is not a whole HTML page")
    before, after = text[: start.start()], text[end.end() : body_end]
    links = {
        name: html.unescape(value)
        for name in LINK_NAMES
        if (value := _data(end.group(0), name)) is not None
    }
    pieces = []
    for part in (before, after):
        part = _ATTRIBUTE.sub(lambda m: _rewrite_attribute(m, frame_url), part)
        part = _SCOPE.sub(lambda m: f'new URL("{_absolute(m.group(1), frame_url)}",location)', part)
        part = _CONFIG.sub(lambda m: _rewrite_config(m, frame_url), part)
        part = _DROPPED_HEAD.sub("", part)
        part = _SKIP.sub(f'href="#{CONTENT_ID}"', part)
        if section:
            part = _mark_active_tab(part, section)
        pieces.append(part)
    before, after = pieces
    head_end = before.find("</head>")
    hashes = tuple(
        dict.fromkeys(script_hash(m.group(1)) for m in _INLINE_SCRIPT.finditer(before + after))
    )
    return Frame(
        head=tuple(before[:head_end].split(FRAME_TITLE)),
        top=tuple(before[head_end:].split(FRAME_TITLE)),
        bottom=after,
        end=text[body_end:],
        script_hashes=hashes,
        links=links,
    )


def _data(tag: str, name: str) -> str | None:
    match = re.search(rf'\sdata-{name.replace("_", "-")}="([^"]*)"', tag)
    return match.group(1) if match else None


def read_frame(site_dir: Path, *, section: str | None = None) -> Frame:
    """The frame of the site built in `site_dir` (FrameError when it has none)."""
    path = Path(site_dir) / FRAME_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameError(f"no built frame at {path} ({exc.strerror or exc})") from None
    return parse_frame(text, section=section)


# --- the static error pages nginx serves itself -------------------------------------------

@dataclass(frozen=True, slots=True)
class StaticErrorPage:
    """An error page nginx answers without the sidecar (deploy/nginx.conf's error_page)."""

    file: str  # under ERRORS_DIR
    title: str
    paragraphs: tuple[str, ...]


STATIC_ERROR_PAGES = (
    StaticErrorPage(
        "413.html",
        "送信内容が大きすぎます",
        (
            "送信内容が大きすぎるため受け付けられませんでした。"
            "ブラウザの「戻る」で入力画面に戻り、長い欄を短くしてから送信してください。",
        ),
    ),
    StaticErrorPage(
        "503.html",
        "ただいま利用できません",
        (
            "ご連絡フォームは、ただいまご利用いただけません。"
            "少し待ってから、もう一度お試しください。",
            "送信の途中だった場合は、ブラウザの「戻る」で入力画面に戻ると、"
            "入力した内容が残っていることがあります。",
        ),
    ),
)


def error_page_html(frame: Frame, page: StaticErrorPage, forms_base: str) -> str:
    """One static error page in the frame, with links onwards."""
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in page.paragraphs)
    links = (
        f'<ul><li><a href="{html.escape(forms_base)}">ご連絡フォームの一覧へ</a></li>'
        '<li><a href="/faq/">よくあるご質問へ</a></li><li><a href="/">ホームへ</a></li></ul>'
    )
    content = f"<h1>{html.escape(page.title, quote=False)}</h1>{body}{links}"
    return frame.page(page.title, content)


def finish_site(site_dir: Path, *, forms_base: str = "/forms/") -> list[Path]:
    """After a build: write the static error pages made from the frame.

    (The frame's `robots: noindex` keeps it out of the sitemap: docs/overrides/sitemap.xml.)

    Returns the error pages written. Raises FrameError when the build made no frame.
    """
    site_dir = Path(site_dir)
    frame = read_frame(site_dir, section=forms_base)
    written = []
    for page in STATIC_ERROR_PAGES:
        path = site_dir / ERRORS_DIR / page.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(error_page_html(frame, page, forms_base), encoding="utf-8")
        written.append(path)
    return written


