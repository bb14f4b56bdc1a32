"""Benchmark: the cmskb plugin's build against plain MkDocs building the same pages.

For each size N the script writes N synthetic FAQ entries (and some news) as YAML next to
the shipped plans/site/support files, then builds

* **plugin**: the repository's mkdocs.yml, content read from that YAML by the plugin;
* **plain**: the very pages the plugin generates, written as Markdown files into docs/,
  built by plain MkDocs + Material with the same theme configuration and no plugin
  (categories in the nav, questions and news items `not_in_nav`, as the plugin does),
  then the same site search index made by `cmskb search-index` (which the plugin makes
  at the end of its build), so that both produce the same site.

* **zensical**: the same content exported as a Zensical project and built by Zensical,
  search index included (`cmskb build --builder zensical`), beside the MkDocs build.

With `--preview`, it also times an editor's one-question change in each preview: `mkdocs
serve` and `cmskb serve --builder zensical` run on the grown content, one question's YAML
gets a new sentence, and the clock runs until the question's page, fetched over HTTP,
shows it (best of `--repeat` edits).

Every build runs in its own subprocess; wall time and peak RSS are measured around it
(``getrusage(RUSAGE_CHILDREN)`` of a fresh measuring process). Builds alternate and the
fastest of `--repeat` runs counts, which damps a shared machine's noise.

    .venv/bin/python bench/bench_build.py --sizes 1000 10000 --repeat 2 --preview
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CATEGORIES = 20
NEWS = 60
PRODUCTS = ("cloud", "asp", "webcanvas", "onprem-perpetual", "onprem-annual")
TOPICS = (
    "テンプレート", "ユーザー権限", "承認フロー", "バージョンアップ", "Cron設定", "自動リンク",
    "アクセス解析タグ", "スタイルシート", "メールアドレス", "ソーシャルメディア連携",
)

TARGET_TIME = 1.10
TARGET_MEMORY = 1.20
TARGET_LINEAR = 10.5


# --- synthetic content ---------------------------------------------------------------


def write_content(target: Path, questions: int, news: int = NEWS) -> None:
    """Write a content tree with `questions` FAQ entries in CATEGORIES categories."""
    from cmskb.content.loader import TOP_LEVEL_FILES

    if target.exists():
        shutil.rmtree(target)
    (target / "faq").mkdir(parents=True)
    (target / "news").mkdir()
    for name in TOP_LEVEL_FILES:  # site, plans, support... as shipped
        shutil.copy(ROOT / "content" / name, target / name)
    lines = ["categories:"]
    for c in range(CATEGORIES):
        lines += [f"  - id: cat-{c:02d}", f"    title: カテゴリ{c + 1}の質問",
                  f"    description: {TOPICS[c % len(TOPICS)]}などについてのご質問です。"]
        (target / "faq" / f"cat-{c:02d}").mkdir()
    (target / "faq" / "categories.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for i in range(questions):
        topic = TOPICS[i % len(TOPICS)]
        qid = f"q-{i:05d}"
        related = ", ".join(f"q-{(i + k) % questions:05d}" for k in (1, 7) if questions > 7)
        text = (
            f"id: {qid}\n"
            f"question: {topic}の設定について教えてください(その{i + 1})。\n"
            "answer: |\n"
            f"  {topic}は管理画面の「設定」メニューから変更できます。変更したあとは、"
            "プレビューで表示を確かめてから公開してください。\n"
            "\n"
            "  1. 管理画面にログインします。\n"
            f"  2. 「設定」から「{topic}」を開きます。\n"
            "  3. 内容を変更して保存します。\n"
            "\n"
            "  うまくいかないときは、**サポートチケット**を使って調査をご依頼いただけます。"
            "詳しくは[料金・プラン](/plans/)をご覧ください。\n"
            f"products: [{PRODUCTS[i % len(PRODUCTS)]}, {PRODUCTS[(i + 2) % len(PRODUCTS)]}]\n"
            f"tags: [{topic}, 設定]\n"
            f"related: [{related}]\n"
            f"updated: 2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}\n"
        )
        path = target / "faq" / f"cat-{i % CATEGORIES:02d}" / f"{qid}.yml"
        path.write_text(text, encoding="utf-8")
    for n in range(news):
        nid = f"news-{n:03d}"
        (target / "news" / f"{nid}.yml").write_text(
            f"id: {nid}\ndate: 2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}\n"
            f"title: お知らせ{n + 1} CMSKIT 5.{n} を公開しました\n"
            "body: |\n  新しいバージョンを公開しました。変更点はリリースノートをご覧ください。\n"
            "category: リリース\n",
            encoding="utf-8",
        )


def write_plugin_project(target: Path) -> Path:
    """The repository's mkdocs.yml and docs/ (content comes through CMSKB_CONTENT_DIR)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    if (target / "docs").exists():
        shutil.rmtree(target / "docs")
    shutil.copytree(ROOT / "docs", target / "docs")
    return target


def write_plain_project(target: Path, content_dir: Path) -> Path:
    """The plugin's pages as Markdown files, and mkdocs.yml without the plugin."""
    from cmskb.content.loader import load_content
    from cmskb.content.render import category_uri, write_pages
    from cmskb.site_files import generate

    write_plugin_project(target)
    content = load_content(content_dir)
    generated = generate(content)
    write_pages(generated.pages, target / "docs")
    write_pages(generated.assets, target / "docs")
    config = (target / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"\n  - cmskb:\n(?:      .*\n)*", "\n", config)
    categories = "".join(
        f"      - {json.dumps(c.title, ensure_ascii=False)}: {category_uri(c.id)}\n"
        for c in content.categories
    )
    config = config.replace("      - faq/index.md\n", "      - faq/index.md\n" + categories, 1)
    config += "\nnot_in_nav: |\n  /faq/*/index.md\n  /news/*/index.md\n"
    (target / "mkdocs.yml").write_text(config, encoding="utf-8")
    return target


# --- preview ------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8", "replace"))
    except OSError:
        return ""


def _wait_for(url: str, text: str, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if text in _fetch(url):
            return time.perf_counter() - start
        time.sleep(0.1)
    raise SystemExit(f"{url} did not show {text!r} within {timeout} s")


def bench_preview(size: int, repeat: int) -> dict[str, float]:
    """Seconds from saving a question's YAML to its page showing the change, per preview."""
    base = OUT / f"n{size}"
    content_dir = base / "content"
    project = base / "plugin"
    question = content_dir / "faq" / "cat-00" / "q-00000.yml"
    original = question.read_text(encoding="utf-8")
    env = {**os.environ, "CMSKB_CONTENT_DIR": str(content_dir), "NO_MKDOCS_2_WARNING": "1"}
    bin_dir = Path(sys.executable).parent
    best: dict[str, float] = {}
    for name in ("mkdocs", "zensical"):
        port = _free_port()
        if name == "mkdocs":
            command = [str(bin_dir / "mkdocs"), "serve", "-f", str(project / "mkdocs.yml"),
                       "-a", f"127.0.0.1:{port}"]
        else:
            command = [str(bin_dir / "cmskb"), "serve", "--builder", "zensical",
                       "-f", str(project / "mkdocs.yml"), "--content", str(content_dir),
                       "--project-dir", str(project / "zensical-preview"),
                       "-a", f"127.0.0.1:{port}"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/faq/q-00000/"
        try:
            _wait_for(url, "q-00000", timeout=1800)
            times = []
            for attempt in range(repeat):
                marker = f"編集確認{name}{attempt}です。"
                time.sleep(1.5)  # a distinct modification time
                question.write_text(
                    original.replace("answer: |\n", f"answer: |\n  {marker}\n\n", 1),
                    encoding="utf-8",
                )
                times.append(_wait_for(url, marker, timeout=1800))
            best[name] = min(times)
        finally:
            question.write_text(original, encoding="utf-8")
            server.terminate()
            server.wait(timeout=30)
    return best


# --- measuring -----------------------------------------------------------------------


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command` under a fresh measuring process: wall and CPU seconds, peak RSS (MiB)."""
    probe = [sys.executable, __file__, "--measure", "--", *command]
    result = subprocess.run(probe, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"build failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_measured(command: list[str]) -> None:
    """Child mode: run the command, print its wall time and peak RSS as JSON."""
    start = time.perf_counter()
    completed = subprocess.run(command, check=False)
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(completed.returncode)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": wall, "cpu_seconds": cpu, "peak_mib": usage.ru_maxrss / 1024}))


def build_command(project: Path, content_dir: Path | None = None) -> list[str]:
    """The build of `project`; with `content_dir`, followed by `cmskb search-index`."""
    mkdocs = str(Path(sys.executable).with_name("mkdocs"))
    build = [mkdocs, "build", "--strict", "-q", "-f", str(project / "mkdocs.yml"),
             "-d", str(project / "site")]
    if content_dir is None:
        return build
    index = [str(Path(sys.executable).with_name("cmskb")), "search-index",
             str(project / "site"), "--content", str(content_dir)]
    return ["sh", "-c", f"{shlex.join(build)} && {shlex.join(index)} >/dev/null"]


def zensical_command(project: Path, content_dir: Path) -> list[str]:
    """`cmskb build --builder zensical` of the repository's configuration for `content_dir`."""
    return [str(Path(sys.executable).with_name("cmskb")), "build", "--builder", "zensical",
            "-f", str(project / "mkdocs.yml"), "--content", str(content_dir),
            "--project-dir", str(project / "zensical"), "-d", str(project / "zensical" / "site")]


def bench_size(size: int, repeat: int) -> dict[str, dict[str, float]]:
    base = OUT / f"n{size}"
    content_dir = base / "content"
    write_content(content_dir, size)
    plugin = write_plugin_project(base / "plugin")
    plain = write_plain_project(base / "plain", content_dir)
    env = {**os.environ, "CMSKB_CONTENT_DIR": str(content_dir), "NO_MKDOCS_2_WARNING": "1"}
    runs: dict[str, list[dict[str, float]]] = {"plugin": [], "plain": [], "zensical": []}
    for _ in range(repeat):
        for name, command in (
            ("plain", build_command(plain, content_dir)),
            ("plugin", build_command(plugin)),
            # a fresh project each time: Zensical's cache would otherwise skip the work
            ("zensical", ["sh", "-c", f"rm -rf {shlex.quote(str(plugin / 'zensical'))} && "
                          + shlex.join(zensical_command(plugin, content_dir))]),
        ):
            runs[name].append(measure(command, env))
            print(f"  n={size} {name}: {runs[name][-1]}", flush=True)
    return {
        name: {
            "seconds": min(r["seconds"] for r in results),
            "cpu_seconds": min(r["cpu_seconds"] for r in results),
            "peak_mib": min(r["peak_mib"] for r in results),
            "seconds_max": max(r["seconds"] for r in results),
        }
        for name, results in runs.items()
    }


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep bench/out/ afterwards")
    parser.add_argument("--preview", action="store_true",
                        help="also time a one-question edit in each preview")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        run_measured(args.command)
        return
    results = {size: bench_size(size, args.repeat) for size in args.sizes}
    print()
    print(f"{'N':>7} {'plain s':>8} {'plugin s':>9} {'time x':>7} {'plain cpu':>10} "
          f"{'plugin cpu':>11} {'cpu x':>6} {'plain MiB':>10} {'plugin MiB':>11} {'mem x':>6}")
    for size, r in results.items():
        plain, plugin = r["plain"], r["plugin"]
        time_ratio = plugin["seconds"] / plain["seconds"]
        cpu_ratio = plugin["cpu_seconds"] / plain["cpu_seconds"]
        mem_ratio = plugin["peak_mib"] / plain["peak_mib"]
        print(f"{size:>7} {plain['seconds']:>8.2f} {plugin['seconds']:>9.2f} {time_ratio:>7.3f} "
              f"{plain['cpu_seconds']:>10.2f} {plugin['cpu_seconds']:>11.2f} {cpu_ratio:>6.3f} "
              f"{plain['peak_mib']:>10.0f} {plugin['peak_mib']:>11.0f} {mem_ratio:>6.3f}")
        print(f"{'':>7} wall time ratio <= {TARGET_TIME}: {_verdict(time_ratio <= TARGET_TIME)}; "
              f"CPU time ratio <= {TARGET_TIME}: {_verdict(cpu_ratio <= TARGET_TIME)}; "
              f"peak memory ratio <= {TARGET_MEMORY}: {_verdict(mem_ratio <= TARGET_MEMORY)}")
    print()
    print(f"{'N':>7} {'mkdocs s':>9} {'zensical s':>11} {'time x':>7} {'mkdocs cpu':>11} "
          f"{'zensical cpu':>13} {'mkdocs MiB':>11} {'zensical MiB':>13} {'mem x':>6}")
    for size, r in results.items():
        plugin, zensical = r["plugin"], r["zensical"]
        print(f"{size:>7} {plugin['seconds']:>9.2f} {zensical['seconds']:>11.2f} "
              f"{zensical['seconds'] / plugin['seconds']:>7.3f} {plugin['cpu_seconds']:>11.2f} "
              f"{zensical['cpu_seconds']:>13.2f} {plugin['peak_mib']:>11.0f} "
              f"{zensical['peak_mib']:>13.0f} {zensical['peak_mib'] / plugin['peak_mib']:>6.3f}")
    if args.preview:
        print()
        print(f"{'N':>7} {'mkdocs serve s':>15} {'zensical preview s':>19}  (edit to page shown)")
        for size in args.sizes:
            times = bench_preview(size, args.repeat)
            print(f"{size:>7} {times['mkdocs']:>15.2f} {times['zensical']:>19.2f}", flush=True)
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        allowed = TARGET_LINEAR * large / small / 10
        for key, label in (("seconds", "wall"), ("cpu_seconds", "CPU")):
            linear = results[large]["plugin"][key] / results[small]["plugin"][key]
            print(f"plugin build, {large} vs {small} questions ({label}): {linear:.2f}x "
                  f"(target <= {allowed:.1f}x): {_verdict(linear <= allowed)}")
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
