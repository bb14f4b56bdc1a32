"""Plan finder: what precomputing every answer adds to a build, and how big the JSON is.

Usage: .venv/bin/python bench/bench_finder.py [CONTENT_DIR] [--runs N] [--rule KEY=VALUE ...]

Times `finder_markup` + `finder_assets` (what the MkDocs plugin calls; the exact search
over every input) on the loaded content, best and median of N runs, wall and CPU time,
and prints the size of the JSON raw and gzip-compressed (level 6, what a web server
typically sends), each against its target: at most 2 s and at most 100 KB. The targets
hold for the shipped rules of plans.yml; `--rule contracts_at_once=2` (or any other key of
`rules`) measures another reading of the seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import statistics
import time
from pathlib import Path

from cmskb.content.loader import load_content
from cmskb.content.model import AddonRule, Content
from cmskb.finder import page
from cmskb.finder.page import DATA_PATH, SCRIPT_PATH, finder_assets, finder_markup

TIME_TARGET_S = 2.0
SIZE_TARGET_BYTES = 100 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", nargs="?", default="content", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rule", action="append", default=[], metavar="KEY=VALUE",
                        help="change a rule of plans.yml for this run")
    args = parser.parse_args()
    content = with_rules(load_content(args.content), args.rule)
    print(f"rules: {content.plans.rules}")
    walls, cpus = [], []
    assets: dict[str, str] = {}
    for _ in range(args.runs):
        page._finder_json.cache_clear()  # time the search itself, not the build-to-build cache
        wall, cpu = time.perf_counter(), time.process_time()
        finder_markup(content)
        assets = finder_assets(content)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    raw = assets[DATA_PATH].encode()
    packed = len(gzip.compress(raw, compresslevel=6))
    script = len(gzip.compress(assets[SCRIPT_PATH].encode(), compresslevel=6))
    data = json.loads(raw)
    print(f"precompute (markup + assets), {args.runs} runs: best {min(walls):.2f} s wall / "
          f"{min(cpus):.2f} s CPU, median {statistics.median(walls):.2f} s wall")
    print(f"  target <= {TIME_TARGET_S:.0f} s: best CPU is {min(cpus) / TIME_TARGET_S:.0%} "
          f"of it, median wall {statistics.median(walls) / TIME_TARGET_S:.0%}")
    print(f"JSON: {len(raw):,} bytes raw, {packed:,} bytes gzip "
          f"({packed / SIZE_TARGET_BYTES:.0%} of the {SIZE_TARGET_BYTES // 1000} KB target); "
          f"script {script:,} bytes gzip")
    print(f"  tables: {len(data['segs']):,} step texts, {len(data['shapes'])} schedules, "
          f"{len(data['lists'])} answer lists")


def with_rules(content: Content, changes: list[str]) -> Content:
    """`content` with rules changed by KEY=VALUE strings."""
    values: dict[str, object] = {}
    for change in changes:
        key, _, value = change.partition("=")
        if key in ("tickets_per_case", "contracts_at_once"):
            values[key] = int(value)
        elif key == "addon_tickets_with":
            values[key] = AddonRule(value)
        elif key == "version_ups_without_contract":
            values[key] = tuple(v for v in value.split(",") if v)
        else:
            raise SystemExit(f"unknown rule {key!r}")
    rules = dataclasses.replace(content.plans.rules, **values)
    return dataclasses.replace(content, plans=dataclasses.replace(content.plans, rules=rules))


if __name__ == "__main__":
    main()
