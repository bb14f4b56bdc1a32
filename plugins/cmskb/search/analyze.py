"""How text becomes search terms, on the index side (the browser side is its twin in JS).

Japanese has no spaces, and a word analyzer at index time cannot be matched by one in the
browser (two segmenters disagree on compounds, which is what sinks Japanese queries in
word-based static search). So the terms are **overlapping character bigrams** over runs of
Japanese script, plus whole Latin words, which need no segmenter on either side:

* ``契約更新`` holds 契約 / 約更 / 更新, so a search for 更新 finds it;
* a run of one kanji or katakana is a one-character term (税, ロ); the index also lists,
  for each such character, the bigrams that start with it, so a one-character query
  (typed so far) finds 税込 and 税別;
* a lone hiragana (を, が, い) is never a term: particles alone match nothing;
* Latin words (``cron``, ``id``) are terms; the index lists them, so the browser can
  complete a word being typed (``cr`` -> ``cron``).

`normalize` is applied to pages and queries alike: NFKC (full-width letters and digits,
half-width katakana), lower case, and the long-vowel mark at the end of a katakana word of
three or more letters dropped (ブラウザー → ブラウザ, フォルダー → フォルダ, but キー stays).
`assets/kb-search-engine.js` implements the same rules; a test runs both on the same texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from operator import add

# Characters of Japanese words: hiragana, katakana (with the long-vowel mark), kanji
# (CJK unified ideographs, extension A, compatibility ideographs) and 々〆ヶ.
_KANJI = "\u3005\u3006\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_JA = f"\u3041-\u3096\u30a1-\u30fa\u30fc\u30fd\u30fe{_KANJI}"
# Characters that are terms alone: kanji and katakana letters (not the long-vowel mark).
_CHAR_TERM = re.compile(f"[\u30a1-\u30fa{_KANJI}]")
_RUN = re.compile(f"[{_JA}]+|[a-z0-9]+")
# A katakana word of 3+ letters ending in ー, not followed by more katakana.
_LONG_VOWEL_END = re.compile(
    "(?<=[\u30a1-\u30fa][\u30a1-\u30fa\u30fc])\u30fc(?![\u30a1-\u30fa\u30fc])"
)

def normalize(text: str) -> str:
    """The form both the index and the query are compared in."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _LONG_VOWEL_END.sub("", text)


def run_terms(run: str) -> list[str]:
    """The terms of one run (see the module docstring)."""
    if run[0].isascii():
        return [run]
    if len(run) == 1:
        return [run] if _CHAR_TERM.match(run) else []
    return list(map(add, run, run[1:]))


def count_terms(text: str) -> Counter[str]:
    """How often each term occurs in `text` (normalized here)."""
    terms: list[str] = []
    for run in _RUN.findall(normalize(text)):
        terms += run_terms(run)
    return Counter(terms)


def stands_alone(char: str) -> bool:
    """Whether a character is a term by itself (a kanji or katakana letter)."""
    return _CHAR_TERM.match(char) is not None

