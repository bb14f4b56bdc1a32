"""`cmskb` MkDocs plugin: turns the editors' YAML in content/ into pages of the site.

A thin adapter over the site generator (`cmskb.site_files`, shared with `cmskb export`):
load, validate and generate (`on_config`, before MkDocs cleans the site directory, so that
bad content leaves an existing site untouched; the categories go into the nav and the
templates' values into ``config.extra.kb``), add the generated pages and files, the feed
among them (`on_files`), put each page's FAQPage JSON-LD in its meta (`on_page_context`)
and build the search index over the written site (`on_post_build`).
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

from cmskb.content.loader import load_content
from cmskb.content.model import Content
from cmskb.content.problems import ContentError
from cmskb.frame import FrameError, finish_site
from cmskb.search.site import index_site
from cmskb.site_files import (
    SiteFiles,
    SiteFilesError,
    StructuredData,
    generate,
    insert_after,
)

from .config import KnowledgeBaseConfig

log = get_plugin_logger(__name__)


class KnowledgeBasePlugin(BasePlugin[KnowledgeBaseConfig]):
    """Generates the FAQ, news, plans and support pages from content/."""

    def __init__(self) -> None:
        self.content: Content | None = None
        self._generated: set[str] = set()
        self._site_files: SiteFiles | None = None
        self._structured: StructuredData | None = None

    # --- events ----------------------------------------------------------------------

    @event_priority(50)  # early: stop a build with bad content before other plugins work
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        content_root = self._resolve_content_root(config)
        config.watch.append(str(content_root))
        self.content = self._load_content(content_root)
        if not config.site_url:
            log.warning("site_url is not set: the news feed needs absolute URLs")
        self._site_files = self._render(config, self.content)
        self._structured = StructuredData(self.content, config.site_url, release=True)
        self._add_categories_to_nav(config, self._site_files)
        config.extra["kb"] = self._site_files.extra
        if self.config.search:
            _show_search_dialog(config)
        return config

    @event_priority(50)  # early: later plugins see the generated pages
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled or self._site_files is None:
            return files
        generated, self._site_files = self._site_files, None  # MkDocs holds them from now
        self._generate_files(files, config, generated)
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
        if self.config.enabled:
            # JSON-LD (`tojson`) keeps Japanese readable; <, >, & and ' are still escaped.
            env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
        return env

    @event_priority(0)
    def on_page_context(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Any
    ) -> TemplateContext | None:
        if self._structured is not None and page.file.src_uri in self._structured:
            page.meta["json_ld"] = self._structured.for_page(page.file.src_uri)
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
        try:
            finish_site(Path(config.site_dir), forms_base=self.content.site.forms.base)
        except FrameError as exc:
            raise PluginError(f"cmskb: {exc}") from exc
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

    def _render(self, config: MkDocsConfig, content: Content) -> SiteFiles:
        try:
            return generate(
                content,
                site_url=config.site_url,
                feed_items=self.config.feed_items,
                search=self.config.search,
            )
        except SiteFilesError as exc:
            raise PluginError(f"cmskb: {exc}") from exc

    def _add_categories_to_nav(self, config: MkDocsConfig, generated: SiteFiles) -> None:
        """List the FAQ categories after the FAQ index entry of an explicit nav.

        Only categories go in the nav: questions and news items stay out of it (every
        page renders the whole nav, so a nav entry per question costs N² work). Material
        prints nav titles unescaped, so each title is HTML-escaped here (as `Markup`, so
        that templates that do apply `| e` do not escape it twice).
        """
        if not config.nav:
            return
        entries: list[dict[str, str]] = [{escape(title): uri} for title, uri in generated.nav]
        if not insert_after(config.nav, self.config.faq_nav_anchor, entries):
            log.warning(
                f"nav has no entry '{self.config.faq_nav_anchor}' to list FAQ categories under"
            )

    def _generate_files(self, files: Files, config: MkDocsConfig, generated: SiteFiles) -> None:
        pages, assets = generated.pages, generated.assets
        clashes = sorted(set(files.src_uris) & (set(pages) | set(assets)))
        if clashes:
            raise PluginError(
                "cmskb: these files in docs/ clash with generated pages: " + ", ".join(clashes)
            )
        self._generated = set(pages)
        for src_uri, text in pages.items():
            inclusion = (
                InclusionLevel.NOT_IN_NAV if src_uri in generated.hidden
                else InclusionLevel.UNDEFINED
            )
            files.append(File.generated(config, src_uri, content=text, inclusion=inclusion))
        for path, text in assets.items():
            files.append(File.generated(config, path.lstrip("/"), content=text))

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
