"""A newcomer's first ten minutes, as README.md tells them, in a clean copy of the project.

The commands of README's "Your first ten minutes" are read from the README and run as
written, in a fresh copy of the working tree with its own `.venv` and an environment with no
``CMSKIT_FORMS_*`` settings: `scripts/run` (with `--port`, so the test never takes 8000),
the reviewer command in a second "terminal" (the password typed twice), then a sign-in at the
review URL `scripts/run` printed. A second `scripts/run` on the same port is refused before
it rebuilds `site/` under the first one.

The copy's `.venv` sees this project's installed libraries (a ``.pth`` file), and pip runs
offline, so `scripts/setup` does its real work (an editable install of the copy) without the
network.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from forms_helpers import csrf_from
from product_fixtures import ROOT, free_port

pytestmark = pytest.mark.slow
PASSWORD = "first-ten-minutes-42"


def readme_blocks(section: str) -> list[list[str]]:
    """The shell code blocks of a README section, as lists of command lines."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"### {section}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", body, re.S)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def copy_tree(target: Path) -> None:
    """The working tree's tracked files (as they are now), like a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    repo = tmp_path_factory.mktemp("fresh") / "cmskb"
    copy_tree(repo)
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(repo / ".venv")], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])  # this project's .venv site-packages
    site = next((repo / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "zz_project_libraries.pth").write_text(f"{purelib}\n", encoding="utf-8")
    _copy_console_scripts(Path(sys.executable).parent, repo / ".venv" / "bin")
    home = tmp_path_factory.mktemp("home")
    env = {
        "PATH": f"{base.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",  # offline: every library is already importable
        "PIP_NO_BUILD_ISOLATION": "0",  # build with the setuptools already there
    }
    yield repo, env


def _copy_console_scripts(source: Path, target: Path) -> None:
    """The libraries' commands (mkdocs, gunicorn, ...) for the copy's own interpreter."""
    for script in source.iterdir():
        if script.is_symlink() or not script.is_file() or (target / script.name).exists():
            continue
        text = script.read_bytes()
        first, _, rest = text.partition(b"\n")
        if not first.startswith(b"#!") or b"python" not in first:
            continue
        (target / script.name).write_bytes(f"#!{target / 'python'}\n".encode() + rest)
        (target / script.name).chmod(0o755)


def test_readme_first_ten_minutes(clean_copy: tuple[Path, dict[str, str]]) -> None:
    repo, env = clean_copy
    (run_block, reviewer_block) = readme_blocks("Your first ten minutes")
    assert run_block == ["scripts/run"]
    (add_reviewer,) = reviewer_block
    port = free_port()
    log = repo / "run.log"
    with log.open("w") as out:
        # Not through a shell: scripts/run ends in `exec cmskit-serve`, so this is the server.
        server = subprocess.Popen(
            [*shlex.split(run_block[0]), "--port", str(port)], cwd=repo, env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        review_url = _wait_for(log, r"Review queue: (http://\S+/forms/review/)", server, 300)
        printed = log.read_text(encoding="utf-8")
        assert f"http://127.0.0.1:{port}/forms/" in printed and "Demo support ID: DEMO-" in printed
        assert "cmskit-forms review add-reviewer NAME" in printed

        # The first page and the forms answer.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and "<html" in page.read().decode("utf-8")

        # A second scripts/run on the busy port refuses before rebuilding site/.
        index = repo / "site" / "index.html"
        before = index.stat().st_mtime_ns
        second = subprocess.run(
            f"{run_block[0]} --port {port}", shell=True, cwd=repo, env=env,
            capture_output=True, text=True, timeout=120, start_new_session=True,
        )
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert index.stat().st_mtime_ns == before

        # The reviewer command as written, in a second terminal (no tty: getpass reads stdin).
        made = subprocess.run(
            add_reviewer, shell=True, cwd=repo, env=env, input=f"{PASSWORD}\n{PASSWORD}\n",
            capture_output=True, text=True, timeout=120, start_new_session=True,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        username = add_reviewer.split()[-1]
        assert f"レビュー担当者 {username} を追加しました" in made.stdout

        _sign_in(review_url, username)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0, log.read_text(encoding="utf-8")
    assert "Stopped." in log.read_text(encoding="utf-8")


def _wait_for(log: Path, pattern: str, server: subprocess.Popen[bytes], seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
        assert server.poll() is None, log.read_text(encoding="utf-8")
        time.sleep(0.3)
    raise AssertionError(f"no {pattern!r} within {seconds} s:\n{log.read_text()}")


def _sign_in(review_url: str, username: str) -> None:
    """Sign in at the printed review URL as a browser would, and see the request list."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(review_url, timeout=10) as page:  # redirected to the login page
        login_url = page.geturl()
        assert "/forms/review/login" in login_url
        token = csrf_from(page.read().decode("utf-8"))
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    request = urllib.request.Request(
        login_url, data=urllib.parse.urlencode(form).encode(), headers={"Referer": login_url}
    )
    with opener.open(request, timeout=10) as page:
        html = page.read().decode("utf-8")
        assert page.geturl().rstrip("/").endswith("/forms/review"), page.geturl()
    assert "リクエスト一覧" in html and username in html
