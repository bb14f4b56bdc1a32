"""Benchmark: time to load and validate a content tree with N synthetic FAQ entries.

Usage: .venv/bin/python bench/content_load.py [N ...]   (default: 1000 10000)
Copies tests/fixtures/content-min, adds N questions spread over its categories (each
with related links) and N/10 news items, then times `load_content` (best of 3, wall clock and
CPU time: the CPU figure is steadier on a shared machine) and prints the 10k/1k ratio.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cmskb.content.loader import load_content

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "content-min"

QUESTION = """id: {id}
question: 合成された質問 {n} はどうすればよいですか。
answer: |
  合成された回答 {n} です。手順は次のとおりです。

  1. 管理画面を開きます。
  2. 設定を確認します。
products: [cloud, onprem-perpetual]
tags: [合成, テスト]
related: [{related}]
updated: 2026-10-01
"""

NEWS = """id: {id}
date: 2026-{month:02d}-{day:02d}
title: 合成されたお知らせ {n}
body: |
  合成されたお知らせ {n} の本文です。
category: お知らせ
"""


def make_tree(target: Path, n: int) -> None:
    shutil.copytree(FIXTURE, target)
    categories = ["installation", "support-contract"]
    for i in range(n):
        category = categories[i % len(categories)]
        related = f"synthetic-{(i + 1) % n}" if n > 1 else "install-steps"
        text = QUESTION.format(id=f"synthetic-{i}", n=i, related=related)
        (target / "faq" / category / f"synthetic-{i}.yml").write_text(text, encoding="utf-8")
    for i in range(max(n // 10, 1)):
        text = NEWS.format(id=f"synthetic-news-{i}", n=i, month=i % 12 + 1, day=i % 28 + 1)
        (target / "news" / f"synthetic-news-{i}.yml").write_text(text, encoding="utf-8")


def best_of(root: Path, runs: int = 3) -> tuple[float, float]:
    """Best wall-clock and best CPU time (seconds) of `runs` loads."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        load_content(root)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main(sizes: list[int]) -> None:
    print(f"libyaml: {yaml.__with_libyaml__}")
    results: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            root = Path(tmp) / f"content-{n}"
            make_tree(root, n)
            wall, cpu = best_of(root)
            results[n] = cpu
            print(
                f"{n:>6} questions + {max(n // 10, 1)} news: wall {wall:.3f} s, "
                f"cpu {cpu:.3f} s ({cpu / n * 1e6:.0f} µs cpu per question)"
            )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        print(
            f"cpu ratio {large}/{small}: {results[large] / results[small]:.2f}x "
            f"for {large / small:.0f}x the questions"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
