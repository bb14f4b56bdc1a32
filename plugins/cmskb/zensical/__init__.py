"""The Zensical adapter: the site as a Zensical project, built and previewed by Zensical.

Zensical reads mkdocs.yml but runs no third-party MkDocs plugin, so `project` writes out
ahead of the build what the cmskb plugin adds during a MkDocs build (the same generator,
`cmskb.site_files`), `builder` runs `zensical build` and then our search index over the
result, and `preview` keeps a running `zensical serve` in step with content/ edits.

Search: Zensical's own search client is not Material's (one button, a client of its own
in a shadow root, its own worker protocol), so the exported project replaces its
partial with our dialog (`assets/search.html`, `kb-search-dialog.js`), which talks to the
same worker and index as Material's dialog does on the MkDocs build.
"""
