"""Session fixtures for the whole product: one built site and one server per test session.

Loaded from tests/conftest.py (`pytest_plugins`) so that the browser tests (tests/e2e/) and
the validator tests (tests/test_validators_*.py) share them: the shipped site is built once
with `mkdocs build --strict` into a temporary folder, and `cmskit-serve` (the run command's
server) serves it with the forms on a free port, with a fresh SQLite queue and the demo
support ID it prints.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import require_service

ROOT = Path(__file__).resolve().parents[1]
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


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers (any HTTP status), or fail with what the process printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def build_site(dest: Path) -> Path:
    """`mkdocs build --strict` of the shipped content into `dest`."""
    result = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(dest)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return dest


@dataclass
class Product:
    """The running product: where it is, its queue, and the demo support ID it printed."""

    base_url: str
    site_dir: Path
    database_url: str
    support_id: str
    process: subprocess.Popen[str]
    output: list[str]

    def url(self, path: str) -> str:
        return self.base_url + path

    def forms_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `cmskit-forms` against this product's queue."""
        env = {**os.environ, **_forms_env(self.database_url)}
        return subprocess.run(
            [str(BIN / "cmskit-forms"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


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
    }


def start_server(site_dir: Path, work: Path) -> Product:
    """Start `cmskit-serve` on a free port with a fresh SQLite queue in `work`."""
    port = free_port()
    database_url = f"sqlite:///{work / 'queue.sqlite3'}"
    env = {**os.environ, **_forms_env(database_url), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            str(BIN / "cmskit-serve"),
            "--site-dir",
            str(site_dir),
            "--port",
            str(port),
            "--database-url",
            database_url,
        ],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.startswith("Stop with Ctrl-C"):
            break
    text = "".join(output)
    match = _DEMO_ID.search(text)
    if process.poll() is not None or match is None:
        stop_server(process)
        pytest.fail(f"cmskit-serve did not start with a demo support ID:\n{text}")
    wait_for_http(base_url + "/", process=process)
    return Product(base_url, site_dir, database_url, match.group(1), process, output)


def stop_server(process: subprocess.Popen[str], timeout: float = 15) -> int:
    """Ctrl-C the server and wait for it; kill it if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped site, built once per session."""
    return build_site(tmp_path_factory.mktemp("built") / "site")


@pytest.fixture(scope="session")
def product(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """The product served as `scripts/run` serves it, on a free port."""
    work = tmp_path_factory.mktemp("serve")
    running = start_server(built_site, work)
    yield running
    stop_server(running.process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    require_service("chromium", CHROMIUM.exists(), f"{CHROMIUM} is needed for browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, product: Product) -> Iterator[object]:
    """A fresh browser context and page, Japanese locale, pointed at the product."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=product.base_url, locale="ja-JP", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot into test-artifacts/ (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def tool(name: str) -> Path | None:
    """A console script of the virtualenv, or one on PATH."""
    candidate = BIN / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None
