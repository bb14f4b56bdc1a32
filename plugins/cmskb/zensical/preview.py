"""`mkdocs serve`'s editing loop for the Zensical build.

`zensical serve` watches the exported project and rebuilds what changed, but not
content/ (it does not know our YAML). This loop runs it and, every half second, looks at
content/, the hand-written docs, the theme overrides and mkdocs.yml: when one changed, it
exports the project again (only files whose bytes differ are rewritten, so Zensical
rebuilds just the touched pages); once Zensical has rewritten the site, it rebuilds the
search index in the served folder. Bad content is reported (file, line, field) and the
preview keeps the last good site.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from cmskb.content.loader import load_content
from cmskb.content.model import SearchSettings
from cmskb.content.problems import ContentError
from cmskb.search.site import index_site

from .builder import zensical_command
from .config import load_config, resolve
from .project import export_project, read_plugin_options

POLL_SECONDS = 0.5
SETTLE_SECONDS = 0.3  # the site's pages must stay unchanged this long before indexing

Snapshot = dict[str, float]


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Modification time of every file under `roots` (files or folders)."""
    seen: Snapshot = {}
    for root in roots:
        if root.is_file():
            seen[str(root)] = root.stat().st_mtime
            continue
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    seen[path] = os.stat(path).st_mtime
                except FileNotFoundError:
                    continue
    return seen


def site_pages_time(site: Path) -> float:
    """Newest modification time of the built site's pages (the search index left out)."""
    newest = 0.0
    for folder, dirs, names in os.walk(site):
        if folder == str(site):
            dirs[:] = [d for d in dirs if d not in ("search", "assets")]
        for name in names:
            if name.endswith(".html"):
                try:
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
                except FileNotFoundError:
                    continue
    return newest


class Preview:
    """The running preview: Zensical's server plus our export and index loop."""

    def __init__(
        self,
        content_dir: Path,
        config_file: Path,
        project_dir: Path,
        dev_addr: str,
        *,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.content_dir = content_dir
        self.config_file = config_file
        self.project_dir = project_dir.resolve()
        self.dev_addr = dev_addr
        self.echo = echo
        config = load_config(config_file)
        self.search = read_plugin_options(config).search
        docs = config_file.parent / str(resolve(config.get("docs_dir", "docs")))
        theme = config.get("theme") or {}
        custom = theme.get("custom_dir") if isinstance(theme, dict) else None
        self.watched = [content_dir, docs, config_file]
        if custom:
            self.watched.append(config_file.parent / str(resolve(custom)))
        self.process: subprocess.Popen[str] | None = None
        self.stop_event = threading.Event()
        self.indexed_at = 0.0
        self.search_settings = SearchSettings()

    def export(self) -> bool:
        """Export the project once; False (problems printed) when the content is bad."""
        try:
            content = load_content(self.content_dir)
        except ContentError as error:
            for problem in error.problems:
                self.echo(problem.format(self.content_dir.as_posix()))
            self.echo(
                f"NG: {len(error.problems)} 件の問題があります。"
                "直すまでプレビューは前の内容のままです。"
            )
            return False
        stats = export_project(content, self.config_file, self.project_dir)
        self.search_settings = content.search
        self.echo(f"cmskb: exported ({stats.written} files written, {stats.removed} removed)")
        return True

    def start(self) -> None:
        """Export, then start `zensical serve` on the project."""
        if not self.export():
            raise SystemExit(1)
        command = [
            *zensical_command(), "serve", "-f", str(self.project_dir / "mkdocs.yml"),
            "-a", self.dev_addr,
        ]
        self.process = subprocess.Popen(
            command, cwd=self.project_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._relay, daemon=True).start()

    def _relay(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.echo(line.rstrip("\n"))

    def index_when_built(self) -> None:
        """Rebuild the search index once the site's pages are newer than the index."""
        if not self.search:
            return
        site = self.project_dir / "site"
        newest = site_pages_time(site)
        if newest <= self.indexed_at:
            return
        time.sleep(SETTLE_SECONDS)
        if site_pages_time(site) != newest:
            return  # Zensical is still writing: try again on the next round
        stats = index_site(site, self.search_settings)
        self.indexed_at = newest
        self.echo(f"cmskb: search index rebuilt ({stats.pages} pages)")

    def run(self) -> int:
        """Start, then keep the project and the index in step until Ctrl-C or Zensical exits."""
        self.start()
        assert self.process is not None
        seen = snapshot(self.watched)
        try:
            while self.process.poll() is None and not self.stop_event.is_set():
                time.sleep(POLL_SECONDS)
                now = snapshot(self.watched)
                if now != seen:
                    seen = now
                    self.export()
                self.index_when_built()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        return self.process.returncode or 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
