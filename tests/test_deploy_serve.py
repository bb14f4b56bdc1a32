"""`cmskit-serve`: the static part (directory indexes, 404 page, redirects) and the one-origin
dispatch, through Werkzeug's real test client; then the real command as `scripts/run` runs it.
"""

from __future__ import annotations

import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, request
from product_fixtures import BIN, start_server
from werkzeug.test import Client, TestResponse

from site_server.cli import build_wsgi_app
from site_server.static import StaticSite

NOT_FOUND_PAGE = "<!doctype html><title>ページが見つかりません</title><p>404</p>"


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "faq" / "install").mkdir(parents=True)
    (site / "assets").mkdir()
    (site / "index.html").write_text("<!doctype html><title>ホーム</title>", encoding="utf-8")
    (site / "404.html").write_text(NOT_FOUND_PAGE, encoding="utf-8")
    (site / "faq" / "index.html").write_text("<title>FAQ</title>", encoding="utf-8")
    (site / "faq" / "install" / "index.html").write_text("<title>Q</title>", encoding="utf-8")
    (site / "assets" / "app.js").write_text("console.log(1);", encoding="utf-8")
    (site / "empty").mkdir()
    return site


class ClosingClient(Client):
    """Werkzeug's test client that reads and closes every response (no open files left)."""

    def open(self, *args: object, **kwargs: object) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def client(tiny_site: Path) -> Client:
    return ClosingClient(StaticSite(tiny_site))


def test_root_serves_index_html(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "ホーム" in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_directory_url_serves_its_index(client: Client) -> None:
    response = client.get("/faq/install/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "<title>Q</title>"


def test_directory_without_slash_redirects_keeping_the_query(client: Client) -> None:
    response = client.get("/faq/install?q=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "/faq/install/?q=1"


def test_missing_path_gets_the_site_404_page_with_status_404(client: Client) -> None:
    for path in ("/nope/", "/faq/nope", "/empty/", "/assets/missing.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_data(as_text=True) == NOT_FOUND_PAGE


def test_paths_cannot_escape_the_site(client: Client, tiny_site: Path) -> None:
    (tiny_site.parent / "secret.txt").write_text("secret", encoding="utf-8")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/faq/../../secret.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "secret" not in response.get_data(as_text=True)


def test_assets_have_their_type_and_conditional_get(client: Client) -> None:
    response = client.get("/assets/app.js")
    assert response.status_code == 200
    assert "javascript" in response.mimetype
    again = client.get("/assets/app.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_only_get_and_head(client: Client) -> None:
    assert client.head("/").status_code == 200
    response = client.post("/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_site_without_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="build the site first"):
        StaticSite(tmp_path)


def test_forms_prefix_goes_to_the_sidecar_mounted_at_forms(tiny_site: Path) -> None:
    sidecar = Flask("sidecar")

    @sidecar.get("/feedback/")
    def feedback() -> str:
        return f"{request.script_root}|{request.path}|{request.url_root}"

    client = ClosingClient(build_wsgi_app(tiny_site, sidecar))
    response = client.get("/forms/feedback/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "/forms|/feedback/|http://localhost/forms/"
    assert client.get("/faq/").get_data(as_text=True) == "<title>FAQ</title>"
    assert client.get("/formsx/").status_code == 404


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(c) for c in task.read_text().split()]
    return children


@pytest.mark.slow
def test_cmskit_serve_runs_one_origin_and_stops_cleanly_on_ctrl_c(
    tiny_site: Path, tmp_path: Path
) -> None:
    product = start_server(tiny_site, tmp_path)
    port = int(product.base_url.rsplit(":", 1)[1])
    try:
        assert _children(product.server.popen.pid) == [], "cmskit-serve must be one process"
        with urllib.request.urlopen(product.url("/faq/")) as response:
            assert response.read().decode() == "<title>FAQ</title>"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(product.url("/does-not-exist/"))
        assert missing.value.code == 404
        assert "ページが見つかりません" in missing.value.read().decode()
        with urllib.request.urlopen(product.url("/forms/feedback/")) as response:
            assert response.status == 200
            assert "<form" in response.read().decode()
    finally:
        code, rest = product.server.stop()
    assert code == 0, rest
    assert "Stopped." in rest
    assert _port_is_free(port)


def test_cmskit_serve_refuses_an_unbuilt_site(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "cmskit-serve"), "--site-dir", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "build the site first" in result.stderr


def test_cmskit_serve_on_a_busy_port_says_so_and_leaves_nothing_behind(
    tiny_site: Path, tmp_path: Path
) -> None:
    database = tmp_path / "queue.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                str(BIN / "cmskit-serve"), "--site-dir", str(tiny_site), "--port", str(port),
                "--database-url", f"sqlite:///{database}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert not database.exists()  # no queue, no demo ID created for a server that never ran
