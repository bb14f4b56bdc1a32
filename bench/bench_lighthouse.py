"""Lighthouse scores of the production setup (not a test; prints figures).

Usage: .venv/bin/python bench/bench_lighthouse.py [--runs 3] [--site DIR] [--page PATH ...]

Builds the shipped site (`mkdocs build --strict`, with SITE_URL set to the address it is
served at, as production's own address would be), serves it with deploy/nginx.conf (gzip,
headers and caching as shipped; paths and ports pointed at a temporary folder as
tests/test_deploy.py does) in front of the forms sidecar under gunicorn with
deploy/gunicorn.conf.py and production settings, then runs Lighthouse 12 (pinned in
bench/lighthouse/package.json, installed there by `npm ci` when missing) with its default
mobile preset (emulated phone, simulated slow 4G and CPU slowdown) in Debian's chromium
(CHROME_PATH=/usr/bin/chromium; no browser is downloaded).

For each page (home, /plans/, a question and the feedback form by default) it prints the
median of the runs for performance, accessibility, best practices and SEO, and whether
each is at least 95, then the audits that cost points in the median run. The JSON reports
are kept in bench/out/lighthouse/. Exit status 0 only when every score is at least 95.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # deploy's nginx config for a local folder and port
from product_fixtures import BIN, ServerProcess, free_port, wait_for_http  # noqa: E402
from test_deploy import NGINX, nginx_config_for  # noqa: E402

LIGHTHOUSE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "bench" / "out" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 95
PAGES = ["/", "/plans/", "/faq/which-plan/", "/forms/feedback/"]
SECRETS = {
    "CMSKIT_FORMS_SECRET_KEY": "bench-lighthouse-secret-5b1e8c3a7d9f2e40",
    "CMSKIT_FORMS_SUPPORT_ID_PEPPER": "bench-lighthouse-pepper-0c6a2f8e4d1b9a73",
}


def ensure_lighthouse() -> None:
    """Install the pinned Lighthouse from the lockfile when it is not there yet."""
    if not LIGHTHOUSE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE_DIR, check=True,
            env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
        )


def build(site: Path, site_url: str) -> None:
    env = {**os.environ, "SITE_URL": site_url, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=ROOT, env=env, check=True,
    )


def lighthouse(url: str, report: Path) -> dict[str, object]:
    """One Lighthouse run (mobile preset); its JSON report."""
    command = [
        "node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    for _ in range(2):  # one retry: on a loaded machine chromium can miss its start
        done = subprocess.run(command, env=env, timeout=300, capture_output=True, text=True)
        if done.returncode == 0:
            break
    else:
        sys.exit(f"lighthouse failed on {url}:\n{done.stdout}\n{done.stderr}")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def scores(report: dict[str, object]) -> dict[str, int]:
    categories = report["categories"]
    assert isinstance(categories, dict)
    return {name: round(float(categories[name]["score"] or 0) * 100) for name in CATEGORIES}


def lost_points(report: dict[str, object], category: str) -> list[str]:
    """Audits of `category` that did not pass, with their weight."""
    categories, audits = report["categories"], report["audits"]
    assert isinstance(categories, dict) and isinstance(audits, dict)
    found = []
    for ref in categories[category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            value = audit.get("displayValue") or ""
            found.append(f"{ref['id']} (weight {ref['weight']}, score {audit['score']}) {value}")
    return found


def serve(site: Path, work: Path, port: int) -> tuple[ServerProcess, ServerProcess]:
    """gunicorn (deploy's config, production settings) behind nginx (deploy's config)."""
    if NGINX is None:
        sys.exit("nginx is needed: apt-get install nginx-light")
    for path in [work, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    app_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")},
        **SECRETS,
        "CMSKIT_FORMS_DATABASE_URL": f"sqlite:///{work / 'queue.sqlite3'}",
        "CMSKIT_FORMS_SITE_URL": f"http://127.0.0.1:{port}/",
        "CMSKIT_FORMS_SITE_DIR": str(site),  # the forms' pages in this build's frame
        "FORMS_BIND": f"127.0.0.1:{app_port}",
        "FORMS_WORKERS": "2",
    }
    subprocess.run(
        [str(BIN / "cmskit-forms"), "migrate"], cwd=ROOT, env=env, check=True,
        capture_output=True,
    )
    gunicorn = ServerProcess(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=ROOT, env=env,
    )
    config = nginx_config_for(site, port, app_port, work)
    web = ServerProcess([NGINX, "-c", str(config), "-g", "daemon off;"], cwd=work, env=env)
    wait_for_http(f"http://127.0.0.1:{app_port}/forms/status/", server=gunicorn)
    wait_for_http(f"http://127.0.0.1:{port}/", server=web)
    return gunicorn, web


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", action="append", help="site path (repeatable)")
    parser.add_argument("--site", type=Path, help="an already built site (its SITE_URL as is)")
    args = parser.parse_args()
    pages: list[str] = args.page or PAGES
    ensure_lighthouse()
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as temp:
        work = Path(temp)
        site = work / "site"
        if args.site:
            shutil.copytree(args.site, site)
        else:
            build(site, base + "/")
        gunicorn, web = serve(site, work, port)
        results: dict[str, list[tuple[dict[str, int], Path]]] = {p: [] for p in pages}
        load_before = os.getloadavg()[0]
        try:
            for run in range(args.runs):  # pages interleaved: each sees the same load
                for path in pages:
                    name = path.strip("/").replace("/", "_") or "home"
                    report = OUT / f"{name}-{run + 1}.json"
                    results[path].append((scores(lighthouse(base + path, report)), report))
        finally:
            web.stop(signal.SIGTERM)
            gunicorn.stop(signal.SIGTERM)

    load_after = os.getloadavg()[0]
    print(f"Lighthouse 12 mobile, median of {args.runs} runs (target >= {TARGET}); machine "
          f"load {load_before:.1f} before, {load_after:.1f} after on {os.cpu_count()} CPUs")
    print(f"{'page':<22}" + "".join(f"{c:>16}" for c in CATEGORIES))
    all_met = True
    for path, runs in results.items():
        row = f"{path:<22}"
        for category in CATEGORIES:
            median = statistics.median_low(r[0][category] for r in runs)
            met = median >= TARGET
            all_met &= met
            row += f"{median:>12} {'ok' if met else 'LOW':>3}"
        print(row)
    for path, runs in results.items():
        for category in CATEGORIES:
            median = statistics.median_low(r[0][category] for r in runs)
            run = next(r for r in runs if r[0][category] == median)
            lost = lost_points(json.loads(run[1].read_text(encoding="utf-8")), category)
            if lost:
                print(f"\n{path} {category} {median} ({run[1].name}):")
                for line in lost:
                    print("  " + line)
    print("\nall at least 95" if all_met else "\nsome below 95")
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
