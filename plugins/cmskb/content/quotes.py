"""Quotations of the support-service page in the content, checked against its text.

A news item with ``source: seed`` quotes the page it rests on (`quote`). The page itself
is not part of this repository; `cmskb check --support-page FILE` hands its text in, and
every quote must appear in it word for word (after NFKC normalisation and without white
space, so that full- and half-width forms and line breaks do not matter).
"""

from __future__ import annotations

import re
import unicodedata

from .model import BasisKind, Content
from .problems import Problem

_SPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def check_quotes(content: Content, page_text: str) -> list[Problem]:
    """A problem for every news quote that `page_text` does not contain."""
    page = _normal(page_text)
    problems = []
    for item in content.news:
        basis = item.basis
        if basis is None or basis.kind is not BasisKind.SEED or not basis.quote:
            continue
        if _normal(basis.quote) not in page:
            problems.append(
                Problem(
                    item.source.file,
                    item.source.line,
                    "quote",
                    f"quote「{basis.quote}」はサポートサービスのご案内にそのまま書かれていません。",
                    "ご案内の文章をそのまま書き写してください(全角・半角と改行の違いは問いません)。",
                )
            )
    return problems
