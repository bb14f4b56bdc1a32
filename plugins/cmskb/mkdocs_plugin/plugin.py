"""`cmskb` MkDocs plugin: turns the editors' YAML in content/ into pages of the site.

A thin adapter over `cmskb.content`: load, validate and render (`on_config`, before MkDocs
cleans the site directory, so that bad content leaves an existing site untouched), add the
rendered Markdown as generated files (`on_files`), put FAQPage JSON-LD in page meta
(`on_page_context`) and write the RSS feed and the search index (`on_post_build`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment
from markupsafe import escape
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils.templates import TemplateContext

from cmskb.content.anchors import news_path, question_path
from cmskb.content.loader import load_content
from cmskb.content.model import Content, Question
from cmskb.content.problems import ContentError
from cmskb.content.render import (
    FEED_PATH,
    answer_html,
    category_uri,
    news_uri,
    plain_text,
    question_uri,
)
from cmskb.search.site import index_site, worker_url
from cmskb.site_files import SiteFiles, SiteFilesError, generate

from .config import KnowledgeBaseConfig
from .feed import build_rss

log = get_plugin_logger(__name__)

FEED_TITLE_SUFFIX = "お知らせ"
# What the search dialog says when nothing matches (kb.js then offers where to go).
SEARCH_NONE = "該当するページが見つかりませんでした"


class KnowledgeBasePlugin(BasePlugin[KnowledgeBaseConfig]):
    """Generates the FAQ, news, plans and support pages from content/."""

    def __init__(self) -> None:
        self.content: Content | None = None
        # src_uri -> the question, or the category's questions, of a page that gets JSON-LD
        self._questions: dict[str, Question] = {}
        self._categories: dict[str, list[Question]] = {}
        self._generated: set[str] = set()
        self._site_files: SiteFiles | None = None
        self._files: Files | None = None

    # --- events ----------------------------------------------------------------------

    @event_priority(50)  # early: stop a build with bad content before other plugins work
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        content_root = self._resolve_content_root(config)
        config.watch.append(str(content_root))
        self.content = self._load_content(content_root)
        self._site_files = self._render(self.content)
        self._add_categories_to_nav(config, self.content)
        if self.config.search:
            _show_search_dialog(config)
        return config

    @event_priority(50)  # early: later plugins see the generated pages
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled or self.content is None or self._site_files is None:
            return files
        generated, self._site_files = self._site_files, None  # MkDocs holds them from now
        self._index_pages(self.content)
        self._generate_files(files, config, generated.pages, generated.assets)
        self._files = files
        return files

    @event_priority(-50)  # late: other plugins may still read the file in this event
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if src_uri_is_generated(page.file, self._generated):
            _release_source(page.file)
        return markdown

    @event_priority(0)
    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        if self.config.enabled and self.content is not None:
            # JSON-LD (`tojson`) keeps Japanese readable; <, >, & and ' are still escaped.
            env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
            env.globals["kb_feed"] = {
                "path": FEED_PATH,
                "title": _feed_title(self.content),
            }
            env.globals["kb_forms"] = self.content.site.forms
            if self.config.search:
                env.globals["kb_search_worker"] = worker_url()
                env.globals["kb_search_none"] = SEARCH_NONE
        return env

    @event_priority(0)
    def on_page_context(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Any
    ) -> TemplateContext | None:
        if not self.config.enabled or self.content is None:
            return context
        src_uri = page.file.src_uri
        if src_uri in self._questions:
            page.meta["json_ld"] = self._question_json_ld(page, self._questions[src_uri])
        elif src_uri in self._categories:
            page.meta["json_ld"] = self._category_json_ld(config, self._categories[src_uri])
        return context

    @event_priority(0)
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        # The JSON-LD is in the written HTML now; free it (it repeats the answer).
        page.meta.pop("json_ld", None)
        return output

    @event_priority(-50)  # late: the site directory is complete
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled or self.content is None:
            return
        self._write_feed(config, self.content)
        if self.config.search:
            stats = index_site(Path(config.site_dir), self.content.search)
            log.debug(f"search index: {stats}")

    # --- helpers ---------------------------------------------------------------------

    def _resolve_content_root(self, config: MkDocsConfig) -> Path:
        base = Path(config.config_file_path or ".").resolve().parent
        root = (base / self.config.content_dir).resolve()
        if not root.is_dir():
            raise PluginError(f"cmskb: content_dir '{root}' is not a folder")
        return root

    def _load_content(self, root: Path) -> Content:
        try:
            return load_content(root)
        except ContentError as error:
            prefix = self.config.content_dir
            for problem in error.problems:
                log.error(problem.format(prefix))
            raise PluginError(
                f"cmskb: {prefix}/ に {len(error.problems)} 件の問題があります。"
                "サイトは作られていません(以前のサイトはそのまま残っています)。"
            ) from None

    @staticmethod
    def _render(content: Content) -> SiteFiles:
        try:
            return generate(content)
        except SiteFilesError as exc:
            raise PluginError(f"cmskb: {exc}") from exc

    def _add_categories_to_nav(self, config: MkDocsConfig, content: Content) -> None:
        """List the FAQ categories after the FAQ index entry of an explicit nav.

        Only categories go in the nav: questions and news items stay out of it (every
        page renders the whole nav, so a nav entry per question costs N² work). Material
        prints nav titles unescaped, so each title is HTML-escaped here (as `Markup`, so
        that templates that do apply `| e` do not escape it twice).
        """
        if not config.nav:
            return
        entries: list[dict[str, str]] = [
            {escape(c.title): category_uri(c.id)} for c in content.categories
        ]
        if not _insert_after(config.nav, self.config.faq_nav_anchor, entries):
            log.warning(
                f"nav has no entry '{self.config.faq_nav_anchor}' to list FAQ categories under"
            )

    def _generate_files(
        self,
        files: Files,
        config: MkDocsConfig,
        pages: dict[str, str],
        assets: dict[str, str],
    ) -> None:
        clashes = sorted(set(files.src_uris) & (set(pages) | set(assets)))
        if clashes:
            raise PluginError(
                "cmskb: these files in docs/ clash with generated pages: " + ", ".join(clashes)
            )
        content = self.content
        assert content is not None
        hidden = set(self._questions)  # `_index_pages` has run
        hidden.update(news_uri(n.id) for n in content.news)
        self._generated = set(pages)
        for src_uri, text in pages.items():
            inclusion = InclusionLevel.NOT_IN_NAV if src_uri in hidden else InclusionLevel.UNDEFINED
            files.append(File.generated(config, src_uri, content=text, inclusion=inclusion))
        for path, text in assets.items():
            files.append(File.generated(config, path.lstrip("/"), content=text))

    def _index_pages(self, content: Content) -> None:
        published = content.published_questions
        self._questions = {question_uri(q.id): q for q in published}
        by_category: dict[str, list[Question]] = {c.id: [] for c in content.categories}
        for question in published:
            by_category.setdefault(question.category, []).append(question)
        self._categories = {category_uri(c.id): by_category[c.id] for c in content.categories}

    def _question_json_ld(self, page: Page, question: Question) -> dict[str, Any]:
        answer = _answer_text(question, page.content)
        return {
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "url": page.canonical_url,
            "mainEntity": [_faq_entry(question, answer, page.canonical_url)],
        }

    def _category_json_ld(self, config: MkDocsConfig, questions: list[Question]) -> dict[str, Any]:
        entries = [
            _faq_entry(
                q,
                self._rendered_answer(q),
                self._absolute_url(config, question_path(q.id).lstrip("/")),
            )
            for q in questions
        ]
        return {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entries}

    def _rendered_answer(self, question: Question) -> str:
        """The answer's HTML from its page (MkDocs renders every page before any template)."""
        file = self._files.get_file_from_path(question_uri(question.id)) if self._files else None
        html = file.page.content if file is not None and file.page is not None else None
        return _answer_text(question, html)

    def _write_feed(self, config: MkDocsConfig, content: Content) -> None:
        if not config.site_url:
            log.warning("site_url is not set: the news feed needs absolute URLs")
        items = content.news[: self.config.feed_items]  # the loader orders them newest first
        data = build_rss(
            title=_feed_title(content),
            description=content.site.description,
            site_url=self._absolute_url(config, ""),
            feed_url=self._absolute_url(config, FEED_PATH),
            items=items,
            item_url=lambda item: self._absolute_url(config, news_path(item.id).lstrip("/")),
        )
        target = Path(config.site_dir) / FEED_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    @staticmethod
    def _absolute_url(config: MkDocsConfig, path: str) -> str:
        base = config.site_url or "/"
        return base.rstrip("/") + "/" + path


class _SearchDialog:
    """Stands in for Material's search plugin in ``config.plugins``.

    Material's header template shows the search box and dialog only when
    ``config.plugins["material/search"].config.enabled`` is true; the dialog then talks to
    the worker the page's config names (ours, see main.html). Registering this object,
    which handles no event, shows the dialog without Material building its own index.
    """

    config = SimpleNamespace(enabled=True)


def _show_search_dialog(config: MkDocsConfig) -> None:
    name = "material/search"
    if name in config.plugins or "search" in config.plugins:
        raise PluginError(
            "cmskb: mkdocs.yml の plugins から search を外してください。"
            "サイト内検索は cmskb が提供します(search: false で無効にできます)。"
        )
    config.plugins[name] = _SearchDialog()  # type: ignore[assignment]


def _feed_title(content: Content) -> str:
    """Title of the news feed (RSS channel and the pages' feed link)."""
    return f"{content.site.name} {FEED_TITLE_SUFFIX}"


def _answer_text(question: Question, html: str | None) -> str:
    """The answer for JSON-LD: from the page's rendered HTML, else the plain source text."""
    return answer_html(html or "") or plain_text(question.answer)


def src_uri_is_generated(file: File, generated: set[str]) -> bool:
    """Whether `file` is one of the Markdown pages this plugin generated."""
    return file.generated_by is not None and file.src_uri in generated


def _release_source(file: File) -> None:
    """Drop a generated page's Markdown once MkDocs has read it into the page.

    MkDocs reads every page before writing any, so keeping the generated sources would
    hold a second copy of every page's Markdown through the whole build (about 22 MB for
    10,000 questions, measured with bench/bench_build.py).
    """
    file.content_string = ""


def _faq_entry(question: Question, answer: str, url: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "@type": "Question",
        "name": question.question,
        "acceptedAnswer": {"@type": "Answer", "text": answer},
        "dateModified": question.updated.isoformat(),
    }
    if url:
        entry["url"] = url
    return entry


def _insert_after(nav: list[Any], anchor: str, entries: list[dict[str, str]]) -> bool:
    """Insert `entries` after the nav item whose target is `anchor` (depth-first)."""
    for index, item in enumerate(nav):
        target = next(iter(item.values())) if isinstance(item, dict) else item
        if target == anchor:
            known = {next(iter(e.values())) for e in nav if isinstance(e, dict)}
            nav[index + 1 : index + 1] = [e for e in entries if next(iter(e.values())) not in known]
            return True
        if isinstance(target, list) and _insert_after(target, anchor, entries):
            return True
    return False


