"""The questions a vote may be about: published questions of the content folder.

Read straight from ``content/faq/<category>/<id>.yml`` (id, question, draft) rather than
through the whole content loader, and kept per process: the list is read again when a
category folder changes (a question file added, removed or renamed) or after `MAX_AGE`
seconds (an edited title), so editors' changes reach the sidecar without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

try:  # libyaml when present: 10,000 question files in about a second
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_AGE = 300.0  # seconds a read list is trusted while no category folder changed


@dataclass(frozen=True, slots=True)
class Catalog:
    titles: dict[str, str]  # published question id -> question text
    signature: tuple[tuple[str, int], ...]
    read_at: float

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


def _read(faq_dir: Path) -> dict[str, str]:
    titles: dict[str, str] = {}
    for path in sorted(faq_dir.glob("*/*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # `cmskb check` names broken files; a vote just cannot be about it
        if not isinstance(data, dict) or data.get("draft") is True:
            continue
        qid, question = data.get("id"), data.get("question")
        if isinstance(qid, str) and isinstance(question, str) and qid == path.stem:
            titles[qid] = " ".join(question.split())
    return titles


def catalog(content_dir: str | Path) -> Catalog:
    """The published questions of `content_dir` (cached; see the module's docstring)."""
    faq_dir = Path(content_dir).resolve() / "faq"
    signature = _signature(faq_dir)
    now = time.monotonic()
    with _LOCK:
        found = _CACHE.get(faq_dir)
        if found is not None and found.signature == signature and now - found.read_at < MAX_AGE:
            return found
    fresh = Catalog(_read(faq_dir), signature, now)
    with _LOCK:
        _CACHE[faq_dir] = fresh
    return fresh


def page_path(site_url: str, question_id: str) -> str:
    """The question page's path on the public site (under SITE_URL's path, if any)."""
    base = urlsplit(site_url or "").path.rstrip("/")
    return f"{base}/faq/{question_id}/"
