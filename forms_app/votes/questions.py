"""The questions a vote may be about: published questions of the content folder.

Read straight from ``content/faq/<category>/<id>.yml`` (id, question, draft) rather than
through the whole content loader, and kept per process. Every call compares the category
folders' modification times (a question file added, removed or renamed changes them); at
most every `MAX_AGE` seconds the files' own times are compared too (an edited title). Only
files that changed are parsed again: 10,000 questions are parsed once (about 1.5 s with
libyaml on the development machine), later refreshes cost a walk over the folder.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

try:  # libyaml when present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_AGE = 60.0  # seconds between two checks of the files' modification times

# One question file as last read: (its mtime_ns, its published id and title, or None).
_Entry = tuple[int, tuple[str, str] | None]


@dataclass(frozen=True, slots=True)
class Catalog:
    titles: dict[str, str]  # published question id -> question text
    signature: tuple[tuple[str, int], ...] = ()
    read_at: float = 0.0
    files: dict[Path, _Entry] = field(default_factory=dict)

    def __contains__(self, question_id: object) -> bool:
        return question_id in self.titles

    def title(self, question_id: str) -> str | None:
        return self.titles.get(question_id)


_LOCK = threading.Lock()
_CACHE: dict[Path, Catalog] = {}


def _signature(faq_dir: Path) -> tuple[tuple[str, int], ...]:
    try:
        folders = sorted(p for p in faq_dir.iterdir() if p.is_dir())
    except OSError:
        return ()
    return tuple((p.name, p.stat().st_mtime_ns) for p in folders)


def _parse(path: Path) -> tuple[str, str] | None:
    """(id, question) of a published question file, or None (draft, broken, misnamed)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # `cmskb check` names broken files; a vote just cannot be about it
    if not isinstance(data, dict) or data.get("draft") is True:
        return None
    qid, question = data.get("id"), data.get("question")
    if isinstance(qid, str) and isinstance(question, str) and qid == path.stem:
        return qid, " ".join(question.split())
    return None


def _read(faq_dir: Path, before: dict[Path, _Entry]) -> dict[Path, _Entry]:
    """Every question file with what it holds, parsing only files new or changed since
    `before`."""
    files: dict[Path, _Entry] = {}
    for path in sorted(faq_dir.glob("*/*.yml")):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        known = before.get(path)
        files[path] = known if known is not None and known[0] == mtime else (mtime, _parse(path))
    return files


def catalog(content_dir: str | Path) -> Catalog:
    """The published questions of `content_dir` (cached; see the module's docstring)."""
    faq_dir = Path(content_dir).resolve() / "faq"
    signature = _signature(faq_dir)
    now = time.monotonic()
    with _LOCK:
        found = _CACHE.get(faq_dir)
    if found is not None and found.signature == signature and now - found.read_at < MAX_AGE:
        return found
    files = _read(faq_dir, found.files if found is not None else {})
    titles = dict(entry for _mtime, entry in files.values() if entry is not None)
    fresh = Catalog(titles, signature, now, files)
    with _LOCK:
        _CACHE[faq_dir] = fresh
    return fresh


def page_path(site_url: str, question_id: str) -> str:
    """The question page's path on the public site (under SITE_URL's path, if any)."""
    base = urlsplit(site_url or "").path.rstrip("/")
    return f"{base}/faq/{question_id}/"
