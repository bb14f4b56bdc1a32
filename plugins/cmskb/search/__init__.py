"""The site's search: an index built over the built HTML, fetched in parts by the browser.

`extract` reads what a built page offers to search, `analyze` turns text into terms,
`index` scores and writes the index files, and `assets/` holds the browser side (the
query engine and the worker that Material's search dialog talks to).
"""
