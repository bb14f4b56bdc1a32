"""Options of the cmskb MkDocs plugin."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class KnowledgeBaseConfig(base.Config):
    """``plugins: [cmskb: {...}]`` in mkdocs.yml."""

    enabled = c.Type(bool, default=True)
    # Folder of the editors' YAML, relative to mkdocs.yml.
    content_dir = c.Type(str, default="content")
    # Nav entry after which the FAQ category pages are listed.
    faq_nav_anchor = c.Type(str, default="faq/index.md")
    # Number of news items in the feed (newest first).
    feed_items = c.Type(int, default=20)
    # The site's search (cmskb.search): index the built pages, answer Material's dialog.
    search = c.Type(bool, default=True)
