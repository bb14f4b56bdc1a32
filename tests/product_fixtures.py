"""Session fixtures for the whole product: one built site and one server per test session.

Loaded from tests/conftest.py (`pytest_plugins`) so that the browser tests (tests/e2e/) and
the validator tests (tests/test_validators_*.py) share them: the shipped site is built once
with `mkdocs build --strict` into a temporary folder, and `cmskit-serve` (the run command's
server) serves it with the forms on a free port, with a fresh SQLite queue and the demo
support ID it prints.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, require_service
from playwright.sync_api import Browser, Page, Route, sync_playwright

BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_DEMO_ID = re.compile(r"^Demo support ID: (\S+)\s*$", re.MULTILINE)


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, server: ServerProcess | None = None) -> None:
    """Wait until `url` answers (any HTTP status), or fail with what the server printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.popen.poll() is not None:
            raise RuntimeError(f"server exited with {server.popen.returncode}:\n{server.output}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def mkdocs_build(
    site: Path,
    content_dir: Path = ROOT / "content",
    *,
    config_file: Path | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build --strict` of `content_dir` into `site`; the caller judges the result.

    `config_file` defaults to the repository's mkdocs.yml. The site gets mkdocs.yml's default
    public address, whatever SITE_URL the shell has.
    """
    env = {**os.environ, "CMSKB_CONTENT_DIR": str(content_dir), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("SITE_URL", None)
    command = [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)]
    if config_file is not None:
        command += ["--config-file", str(config_file)]
    if quiet:
        command.append("--quiet")
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def build_site(dest: Path) -> Path:
    """`mkdocs build --strict` of the shipped content into `dest`."""
    result = mkdocs_build(dest, quiet=True)
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return dest


def zensical_build(
    project: Path, content_dir: Path = ROOT / "content"
) -> subprocess.CompletedProcess[str]:
    """`cmskb build --builder zensical` of `content_dir` in `project` (site: project/site)."""
    env = {**os.environ}
    env.pop("SITE_URL", None)
    command = [
        str(BIN / "cmskb"), "build", "--builder", "zensical", "--content", str(content_dir),
        "--project-dir", str(project), "--site-dir", str(project / "site"),
    ]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def build_zensical_site(project: Path) -> Path:
    """The shipped content built by Zensical (`cmskb build --builder zensical`)."""
    result = zensical_build(project)
    if result.returncode != 0:
        pytest.fail(f"cmskb build --builder zensical failed:\n{result.stdout}\n{result.stderr}")
    return project / "site"


def json_ld(html: str) -> list[dict[str, object]]:
    """The JSON-LD blocks of a built page, parsed."""
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


@dataclass
class Product:
    """The running product: where it is, its queue, and the demo support ID it printed."""

    base_url: str
    database_url: str
    support_id: str
    server: ServerProcess

    def url(self, path: str) -> str:
        return self.base_url + path

    def forms_cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run `cmskit-forms` against this product's queue."""
        env = {**os.environ, **_forms_env(self.database_url)}
        return subprocess.run(
            [str(BIN / "cmskit-forms"), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def add_reviewer(self, name: str, password: str) -> str:
        """Create the reviewer `name` with `password` through the command line; its name."""
        result = self.forms_cli("review", "add-reviewer", name, "--password-stdin", stdin=password)
        assert result.returncode == 0, result.stdout + result.stderr
        return name


# Fixed test secrets, so the server and the `cmskit-forms` command line share them without
# writing the development secrets file into the working tree's instance folder.
_TEST_SECRETS = {
    "CMSKIT_FORMS_SECRET_KEY": "e2e-secret-key-" + "0" * 32,
    "CMSKIT_FORMS_SUPPORT_ID_PEPPER": "e2e-pepper-" + "1" * 32,
}


def _forms_env(database_url: str) -> dict[str, str]:
    return {
        **_TEST_SECRETS,
        "CMSKIT_FORMS_ENV": "development",
        "CMSKIT_FORMS_DATABASE_URL": database_url,
        # Every browser test posts from 127.0.0.1: the default per-client submit limit
        # (20 a minute) is tested by the forms' own tests, not here.
        "CMSKIT_FORMS_SUBMIT_RATE_LIMIT": "500 per minute",
        # Every question page a browser test opens asks for its vote (kb-votes.js).
        "CMSKIT_FORMS_VOTE_STATE_RATE_LIMIT": "1000 per minute",
    }


class ServerProcess:
    """A server started as a child process whose output is read continuously (a full pipe
    would block it) and kept for failure messages."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float = 60) -> bool:
        """Wait until a line starting with `prefix` was printed (False if it exited first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith(prefix) for line in list(self.lines)):
                return True
            if self.popen.poll() is not None:
                self._reader.join(timeout=5)
                return any(line.startswith(prefix) for line in self.lines)
            time.sleep(0.05)
        return False

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> tuple[int, str]:
        """Send `sig` (Ctrl-C by default), wait (kill if it hangs); exit code and output."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._reader.join(timeout=10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return self.popen.returncode, self.output


def start_server(site_dir: Path, work: Path) -> Product:
    """Start `cmskit-serve` on a free port with a fresh SQLite queue in `work`."""
    port = free_port()
    database_url = f"sqlite:///{work / 'queue.sqlite3'}"
    env = {**os.environ, **_forms_env(database_url), "PYTHONUNBUFFERED": "1"}
    command = [str(BIN / "cmskit-serve"), "--site-dir", str(site_dir), "--port", str(port)]
    server = ServerProcess([*command, "--database-url", database_url], cwd=work, env=env)
    started = server.wait_for_line("Stop with Ctrl-C")
    match = _DEMO_ID.search(server.output)
    if not started or match is None:
        _, output = server.stop()
        pytest.fail(f"cmskit-serve did not start with a demo support ID:\n{output}")
    base_url = f"http://127.0.0.1:{port}"
    wait_for_http(base_url + "/")
    return Product(base_url, database_url, match.group(1), server)


# --- the built site and the served product, from each builder ---------------------------
#
# `built_site` and `product` are the MkDocs build (the default; the forms' tests use them).
# Tests of the site itself run against both builds: their modules import the fixtures of
# tests/each_build.py, which take the names `built_site` and `product` there, parametrised
# over BUILDERS; each build and each server is made once per session.

BUILDERS = ("mkdocs", "zensical")


@pytest.fixture(scope="session")
def mkdocs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped site built by MkDocs, once per session."""
    return build_site(tmp_path_factory.mktemp("built") / "site")


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped site built by Zensical, once per session."""
    return build_zensical_site(tmp_path_factory.mktemp("zensical") / "project")


def _serve(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    running = start_server(site, tmp_path_factory.mktemp("serve"))
    yield running
    running.server.stop()


@pytest.fixture(scope="session")
def mkdocs_product(
    mkdocs_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Product]:
    """The MkDocs build served as `scripts/run` serves it, on a free port."""
    yield from _serve(mkdocs_site, tmp_path_factory)


@pytest.fixture(scope="session")
def zensical_product(
    zensical_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Product]:
    """The Zensical build served the same way."""
    yield from _serve(zensical_site, tmp_path_factory)


@pytest.fixture(scope="session")
def built_site(mkdocs_site: Path) -> Path:
    return mkdocs_site


@pytest.fixture(scope="session")
def product(mkdocs_product: Product) -> Product:
    return mkdocs_product


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    require_service("chromium", CHROMIUM.exists(), f"{CHROMIUM} is needed for browser tests")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# Anything not served by this machine (e.g. web fonts from a CDN) is refused at once, so a
# test never waits on the network and the pages are judged as they work offline.
_EXTERNAL = re.compile(r"^https?://(?!127\.0\.0\.1[:/]|localhost[:/])")


# What went wrong on a page that no assertion looks at: requests that tried to leave this
# machine and uncaught script errors. Keyed by id() of the Page.
_PAGE_PROBLEMS: dict[int, list[str]] = {}


def new_page(
    browser: Browser, product: Product, *, width: int = 1280, height: int = 900, **options: object
) -> Page:
    """A page in a fresh context (own cookies), Japanese locale, pointed at the product."""
    context = browser.new_context(
        base_url=product.base_url,
        locale="ja-JP",
        viewport={"width": width, "height": height},
        **options,
    )
    context.set_default_timeout(15_000)
    problems: list[str] = []

    def refuse(route: Route) -> None:
        problems.append(f"request leaving this machine: {route.request.url}")
        route.abort()

    context.route(_EXTERNAL, refuse)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    _PAGE_PROBLEMS[id(page)] = problems
    return page


def close_page(page: Page) -> None:
    """Close the page's context and fail on external requests or script errors it saw."""
    problems = _PAGE_PROBLEMS.pop(id(page), [])
    page.context.close()
    assert not problems, "page problems:\n" + "\n".join(problems)


@pytest.fixture
def page(browser: Browser, product: Product) -> Iterator[Page]:
    """A fresh browser page for one test."""
    page = new_page(browser, product)
    yield page
    close_page(page)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot into test-artifacts/ (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

