"""FAQPage JSON-LD of the question and category pages, made from the content alone.

The answer's HTML is rendered here from the editor's Markdown (with the Markdown
extensions an answer may use), not cut from a builder's output, so that every builder
gets the same data through the pages' front matter (see `cmskb.site_files`). Links in
the answer are made absolute with the site's address: the JSON-LD is read away from the
page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import markdown

from cmskb.content.anchors import question_path
from cmskb.content.model import Question

# What an answer's Markdown may use (a subset of mkdocs.yml's extensions: the headings'
# permalinks and code highlighting are page furniture, not part of the answer).
ANSWER_EXTENSIONS = (
    "abbr",
    "admonition",
    "attr_list",
    "def_list",
    "footnotes",
    "md_in_html",
    "tables",
    "pymdownx.details",
    "pymdownx.superfences",
)
_ROOT_LINK = re.compile(r'(\s(?:href|src)=")/(?!/)')

JsonLd = dict[str, Any]


class AnswerRenderer:
    """Renders answers to HTML with one reused Markdown instance (it is not thread-safe)."""

    def __init__(self, site_url: str | None) -> None:
        self._md = markdown.Markdown(extensions=list(ANSWER_EXTENSIONS))
        self._base = site_url.rstrip("/") + "/" if site_url else None

    def __call__(self, text: str) -> str:
        html = str(self._md.reset().convert(text))
        base = self._base
        if base is not None and '="/' in html:
            html = _ROOT_LINK.sub(lambda m: m.group(1) + base, html)
        return html


def absolute_url(site_url: str | None, path: str) -> str | None:
    """`path` (site-absolute, ``/faq/x/``) on the site's address; None without one."""
    if not site_url:
        return None
    return site_url.rstrip("/") + "/" + path.lstrip("/")


def faq_entry(question: Question, answer: str, url: str | None) -> JsonLd:
    """One schema.org Question with its accepted answer (HTML)."""
    entry: JsonLd = {
        "@type": "Question",
        "name": question.question,
        "acceptedAnswer": {"@type": "Answer", "text": answer},
        "dateModified": question.updated.isoformat(),
    }
    if url:
        entry["url"] = url
    return entry


def question_json_ld(question: Question, answer: str, site_url: str | None) -> JsonLd:
    """The FAQPage of one question's page."""
    url = absolute_url(site_url, question_path(question.id))
    data: JsonLd = {"@context": "https://schema.org", "@type": "FAQPage"}
    if url:
        data["url"] = url
    data["mainEntity"] = [faq_entry(question, answer, url)]
    return data


def category_json_ld(
    questions: Sequence[Question], answers: dict[str, str], site_url: str | None
) -> JsonLd:
    """The FAQPage of a category page: every question of the category with its answer."""
    entries = [
        faq_entry(q, answers[q.id], absolute_url(site_url, question_path(q.id)))
        for q in questions
    ]
    return {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entries}
