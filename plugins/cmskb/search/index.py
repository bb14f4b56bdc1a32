"""Score the site's sections and write the search index in parts the browser fetches on demand.

Layout under ``<site>/search/`` (every file also precompressed as ``.gz``):

* ``kb/manifest.json``: what a query needs first (sizes, the build id, synonyms, the Latin
  words for completion); small.
* ``kb/<build>/t/<n>.bin``: term shards. A term lives in shard ``fnv1a(term) % shards``,
  so a query fetches one shard per distinct term and never the rest of the index. A
  kanji or katakana character also has an entry ``<char>…`` listing the most frequent
  bigrams that start with it, so a one-character query can be widened to them.
* ``kb/<build>/d/<n>.json``: the result texts (location, title, excerpt) of `CHUNK` sections
  each, fetched only for the results shown.
* ``search_index.json``: a stub for Material's page script, which reads the search
  configuration from it (the separator used to highlight terms on the opened page).

Files under ``kb/<build>/`` never change once written (a new build gets a new id), so a
server may let browsers cache them for good; only the manifest must be revalidated.

Scores are BM25F weights worked out here, one byte per posting: a section's title counts
`TITLE_BOOST` times its text, its keywords `KEYWORD_BOOST` times; the browser multiplies by
the term's rarity (idf), which it derives from the posting count it has just read. Terms
are gathered section by section into compact arrays (the index of 10,000 pages is built
without holding their texts), and weighed once the average lengths are known.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .analyze import count_terms, normalize, stands_alone
from .extract import PageText

FORMAT_VERSION = 1
TITLE_BOOST = 4.0
KEYWORD_BOOST = 3.0
PAGE_TITLE_BOOST = 1.0  # the page's title, for its sections after the first
BODY_BOOST = 1.0
K1 = 1.2
B = 0.75
WEIGHT_SCALE = 255 / (K1 + 1)  # BM25's tf part is below k1 + 1
CHUNK = 16  # sections per result-text file
TARGET_SHARD_BYTES = 6_000  # average raw size of a term shard
EXCERPT_CHARS = 360
MAX_WORDS = 5000  # Latin words listed for completion (most frequent first)
MAX_CONTINUATIONS = 8  # bigrams a one-character query is widened to
CONTINUATION_MARK = "\u2026"
MIN_GZIP_SAVING = 0.9  # keep a .gz only if it is at most 90% of the file

INDEX_DIR = "search"
STUB_NAME = "search_index.json"
# What Material's page script splits highlighted terms on (the worker sends whole terms).
STUB_SEPARATOR = r"[\s\u3000]+"

_CAP = 255  # a field's count of one term in one section, as stored before weighing
_FIELDS = 4  # title, keywords, page title, body: a byte each in a packed count (title high)


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What one build of the index wrote."""

    pages: int
    sections: int
    terms: int
    shards: int
    bytes_on_disk: int  # every file, .gz included
    build_id: str


@dataclass(frozen=True, slots=True)
class _Entry:
    """One indexed section: where it leads and what its result shows."""

    location: str
    title: str
    page_title: str | None  # for a section after the first: the page it belongs to
    text: str


def fnv1a(term: str) -> int:
    """32-bit FNV-1a over the term's UTF-16 code units (what JavaScript strings hold)."""
    value = 0x811C9DC5
    data = term.encode("utf-16-le")
    for i in range(0, len(data), 2):
        value ^= data[i] | (data[i + 1] << 8)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


class _Terms:
    """Term counts of every section, packed: a section number and four field counts each."""

    def __init__(self) -> None:
        self.sections: dict[str, list[int]] = {}
        self.counts: dict[str, list[int]] = {}
        self.lengths: list[array[int]] = [array("I") for _ in range(_FIELDS)]

    def add(
        self,
        title: Counter[str],
        keywords: Counter[str],
        page_title: Counter[str],
        body: Counter[str],
    ) -> None:
        """Add the next section's term counts, field by field."""
        number = len(self.lengths[0])
        for lengths, counter in zip(self.lengths, (title, keywords, page_title, body), strict=True):
            lengths.append(counter.total())
        # body counts in the low byte; the other fields' counts above it (rarely present)
        packed = dict(body) if max(body.values(), default=0) <= _CAP else _capped(body)
        for shift, counter in ((24, title), (16, keywords), (8, page_title)):
            for term, times in counter.items():
                packed[term] = packed.get(term, 0) | (min(times, _CAP) << shift)
        sections, counts = self.sections, self.counts
        for term, value in packed.items():
            found = sections.get(term)
            if found is None:
                sections[term] = [number]
                counts[term] = [value]
            else:
                found.append(number)
                counts[term].append(value)

    def weigh(self) -> dict[str, tuple[list[int], bytes]]:
        """term -> (sections ascending, BM25F weight 1..255 of each)."""
        boosts = (TITLE_BOOST, KEYWORD_BOOST, PAGE_TITLE_BOOST, BODY_BOOST)
        norms: list[list[float]] = []
        for boost, lengths in zip(boosts, self.lengths, strict=True):
            average = max(sum(lengths) / max(len(lengths), 1), 1.0)
            norms.append([boost / (1 - B + B * length / average) for length in lengths])
        title, keywords, page_title, body = norms
        saturate = (K1 + 1) * WEIGHT_SCALE
        weighed: dict[str, tuple[list[int], bytes]] = {}
        for term, sections in self.sections.items():
            weights = bytearray()
            for section, value in zip(sections, self.counts[term], strict=True):
                tf = (value & 0xFF) * body[section]
                if value > 0xFF:
                    tf += (
                        (value >> 24) * title[section]
                        + ((value >> 16) & 0xFF) * keywords[section]
                        + ((value >> 8) & 0xFF) * page_title[section]
                    )
                weights.append(min(255, int(tf * saturate / (K1 + tf) + 0.5)) or 1)
            weighed[term] = (sections, bytes(weights))
        return weighed


def build_index(
    pages: Iterable[PageText], site_dir: Path, *, synonyms: Sequence[Sequence[str]] = ()
) -> IndexStats:
    """Write the index of `pages` under ``site_dir/search`` (replacing any earlier one)."""
    entries: list[_Entry] = []
    terms = _Terms()
    page_count = 0
    empty: Counter[str] = Counter()
    for page in pages:
        page_count += 1
        keywords = count_terms(" ".join(page.keywords)) if page.keywords else empty
        page_title = count_terms(page.title)
        for number, section in enumerate(page.sections):
            first = number == 0
            entries.append(
                _Entry(
                    location=page.url if first else f"{page.url}#{section.anchor or ''}",
                    title=section.heading or page.title,
                    page_title=None if first else page.title,
                    text=section.text[:EXCERPT_CHARS],
                )
            )
            terms.add(
                page_title if first else count_terms(section.heading),
                keywords if first else empty,
                empty if first else page_title,
                count_terms(section.text),
            )
    postings = terms.weigh()
    del terms
    shards = _shard_count(postings)
    files = {f"t/{n}.bin": data for n, data in _encode_shards(postings, shards)}
    files.update((f"d/{n}.json", data) for n, data in _encode_chunks(entries))
    build_id = _build_id(files, synonyms)
    root = Path(site_dir) / INDEX_DIR
    target = root / "kb"
    if target.exists():
        shutil.rmtree(target)
    written = sum(_write(target / build_id / name, data) for name, data in files.items())
    words = sorted(
        (t for t in postings if t.isascii() and not t.isdigit()),
        key=lambda t: (-len(postings[t][0]), t),
    )
    manifest = {
        "version": FORMAT_VERSION,
        "build": build_id,
        "sections": len(entries),
        "shards": shards,
        "chunk": CHUNK,
        "scale": WEIGHT_SCALE,
        "words": words[:MAX_WORDS],
        "synonyms": [[normalize(word) for word in group] for group in synonyms],
    }
    written += _write(target / "manifest.json", _json(manifest))
    stub = {"config": {"lang": ["ja"], "separator": STUB_SEPARATOR, "pipeline": []}, "docs": []}
    written += _write(root / STUB_NAME, _json(stub))
    return IndexStats(
        pages=page_count,
        sections=len(entries),
        terms=len(postings),
        shards=shards,
        bytes_on_disk=written,
        build_id=build_id,
    )


def _shard_count(postings: dict[str, tuple[list[int], bytes]]) -> int:
    approximate = sum(len(t.encode()) + 4 + 3 * len(w) for t, (_, w) in postings.items())
    return max(1, min(4096, round(approximate / TARGET_SHARD_BYTES)))


def _continuations(postings: dict[str, tuple[list[int], bytes]]) -> dict[str, str]:
    """``<char>…`` -> the second characters of its most frequent bigrams (kanji, katakana)."""
    starts: dict[str, list[str]] = {}
    for term in postings:
        if len(term) == 2 and stands_alone(term[0]):
            starts.setdefault(term[0], []).append(term)
    return {
        first + CONTINUATION_MARK: "".join(
            t[1] for t in sorted(found, key=lambda t: (-len(postings[t][1]), t))[
                :MAX_CONTINUATIONS
            ]
        )
        for first, found in starts.items()
    }


def _capped(counter: Counter[str]) -> dict[str, int]:
    return {term: min(times, _CAP) for term, times in counter.items()}


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _encode_shards(
    postings: dict[str, tuple[list[int], bytes]], shards: int
) -> Iterator[tuple[int, bytes]]:
    """Each non-empty shard, as read by decodeShard in kb-search-engine.js.

    Term count (varint), then per term: UTF-8 length (varint) and bytes, then either
    postings: count n (varint), the width w (2 or 4) of the section gaps, n gaps
    (little-endian, w bytes each; the first is the first section), n weights (a byte
    each); or, for a ``<char>…`` entry, 0 and the UTF-8 length and bytes of the second
    characters of its bigrams.
    """
    continuations = _continuations(postings)
    grouped: list[list[str]] = [[] for _ in range(shards)]
    for term in sorted([*postings, *continuations]):
        grouped[fnv1a(term) % shards].append(term)
    for number, terms in enumerate(grouped):
        if not terms:
            continue
        out = bytearray()
        _varint(len(terms), out)
        for term in terms:
            raw = term.encode()
            _varint(len(raw), out)
            out += raw
            if term in continuations:
                _varint(0, out)
                chars = continuations[term].encode()
                _varint(len(chars), out)
                out += chars
                continue
            sections, weights = postings[term]
            gaps = array("I", [sections[0]])
            gaps.extend(b - a for a, b in pairwise(sections))
            wide = max(gaps) > 0xFFFF
            _varint(len(sections), out)
            out.append(4 if wide else 2)
            packed = gaps if wide else array("H", gaps)
            if sys.byteorder != "little":
                packed.byteswap()
            out += packed.tobytes()
            out += weights
        yield number, bytes(out)


def _encode_chunks(entries: list[_Entry]) -> Iterator[tuple[int, bytes]]:
    """Result texts, `CHUNK` sections a file: [location, title, excerpt(, page title)]."""
    for start in range(0, len(entries), CHUNK):
        rows = [
            [e.location, e.title, e.text] + ([e.page_title] if e.page_title else [])
            for e in entries[start : start + CHUNK]
        ]
        yield start // CHUNK, _json(rows)


def _build_id(files: dict[str, bytes], synonyms: Sequence[Sequence[str]]) -> str:
    """A name that changes whenever any file of the index does."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}".encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    digest.update(json.dumps([list(g) for g in synonyms], ensure_ascii=False).encode())
    return digest.hexdigest()[:12]


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _write(path: Path, data: bytes) -> int:
    """Write `data` and, when it pays, a gzip copy beside it; the bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    written = len(data)
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    if len(packed) <= len(data) * MIN_GZIP_SAVING:
        path.with_name(path.name + ".gz").write_bytes(packed)
        written += len(packed)
    return written
