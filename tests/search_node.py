"""The site search's browser engine run under Node over a built site folder.

Tests and bench/bench_search.py use it to ask the very JavaScript the browser runs
(plugins/cmskb/search/assets/kb-search-engine.js) without a browser: what it finds, what it
fetches, and how it splits text into terms.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "plugins" / "cmskb" / "search" / "assets" / "kb-search-engine.js"
DRIVER = Path(__file__).with_name("search_node.js")
NODE = shutil.which("node")


class SearchEngine:
    """One Node process answering requests against `site_dir` (see search_node.js)."""

    def __init__(self, site_dir: Path) -> None:
        if NODE is None:
            raise FileNotFoundError("node is not installed")
        self.process = subprocess.Popen(
            [NODE, str(DRIVER), str(ENGINE), str(site_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def search(self, query: str, **options: bool) -> dict[str, Any]:
        """{"pages": result pages in order, "groups": query groups, "fetched": paths}."""
        return self.ask({"search": query, "options": options})

    def terms(self, text: str) -> dict[str, int]:
        return self.ask({"terms": text})["terms"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
