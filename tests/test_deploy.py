"""The production setup in deploy/: nginx's configuration is valid, and nginx on a high port
serves the built site and proxies /forms/ to the sidecar under gunicorn (deploy's own
gunicorn.conf.py, two workers), all on this machine.
"""

from __future__ import annotations

import getpass
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import require_service
from each_build import each_built_site, each_product, site_builder  # noqa: F401
from forms_helpers import csrf_from, docs_data, feedback_data, plain_site
from forms_servers import Session
from product_fixtures import BIN, ROOT, ServerProcess, free_port, wait_for_http

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
SECRETS = {
    "CMSKIT_FORMS_SECRET_KEY": "deploy-test-secret-6e2c9a0f4b8d1e7a3c5f9b2d",
    "CMSKIT_FORMS_SUPPORT_ID_PEPPER": "deploy-test-pepper-1a7d3f9c5e0b8a2d6f4c1e9b",
}
SITE_URL = "https://support.cmskit.example/"
WRONG_IDS_PER_CLIENT = 3


def _require_nginx() -> str:
    require_service("nginx", NGINX is not None, "install nginx-light to test deploy/nginx.conf")
    assert NGINX is not None
    return NGINX


def nginx_config_for(site: Path, port: int, upstream_port: int, work: Path) -> Path:
    """deploy/nginx.conf with its paths and ports pointed at this test's folders."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    replacements = {
        r"^user .*;$": f"user {getpass.getuser()};",
        r"^pid .*;$": f"pid {work / 'nginx.pid'};",
        r"^error_log .*;$": f"error_log {work / 'error.log'} warn;",
        r"access_log .*;": f"access_log {work / 'access.log'};",
        r"listen 80;": f"listen 127.0.0.1:{port};",
        r"root /srv/cmskit/site;": f"root {site};",
        r"server 127\.0\.0\.1:8001;": f"server 127.0.0.1:{upstream_port};",
    }
    for pattern, value in replacements.items():
        text, count = re.subn(pattern, value, text, flags=re.MULTILINE)
        assert count == 1, f"deploy/nginx.conf no longer has exactly one {pattern!r}"
    temp = "\n".join(
        f"    {kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    text = text.replace("http {\n", "http {\n" + temp + "\n", 1)
    config = work / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.service
def test_shipped_nginx_config_is_valid(tmp_path: Path) -> None:
    nginx = _require_nginx()
    site = tmp_path / "site"
    site.mkdir()
    config = nginx_config_for(site, free_port(), free_port(), tmp_path)
    result = subprocess.run(
        [nginx, "-t", "-c", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _gunicorn_check_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`gunicorn --check-config` with deploy's gunicorn.conf.py, in the repository root."""
    return subprocess.run(
        [str(BIN / "gunicorn"), "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_gunicorn_config_loads_the_app(tmp_path: Path) -> None:
    env = {
        **os.environ,
        **SECRETS,
        "FORMS_WORKERS": "2",
        "CMSKIT_FORMS_DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "CMSKIT_FORMS_SITE_DIR": str(plain_site()),
    }
    migrate = subprocess.run(
        [str(BIN / "cmskit-forms"), "migrate"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    result = _gunicorn_check_config(env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_config_refuses_to_start_without_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")}
    result = _gunicorn_check_config(env)
    assert result.returncode != 0
    assert "CMSKIT_FORMS_SECRET_KEY" in result.stdout + result.stderr


def test_readme_documents_every_setting_it_needs() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for name in (
        "CMSKIT_FORMS_SECRET_KEY",
        "CMSKIT_FORMS_SUPPORT_ID_PEPPER",
        "CMSKIT_FORMS_DATABASE_URL",
        "CMSKIT_FORMS_RATELIMIT_STORAGE_URI",
        "CMSKIT_FORMS_PROXY_COUNT",
        "postgresql+psycopg://",
        "redis://",
        "gunicorn -c deploy/gunicorn.conf.py",
        "cmskit-forms migrate",
    ):
        assert name in readme, name


@dataclass
class Stack:
    base_url: str
    support_id: str
    app: ServerProcess


def _fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture(scope="module")
def stack(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nginx (deploy/nginx.conf) in front of gunicorn (deploy/gunicorn.conf.py, 2 workers)."""
    nginx = _require_nginx()
    work = tmp_path_factory.mktemp("stack")
    # The site must be readable by nginx's workers, whatever user they run as.
    site = work / "site"
    shutil.copytree(built_site, site)
    for path in [work, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    app_port, web_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")},
        **SECRETS,
        "CMSKIT_FORMS_DATABASE_URL": f"sqlite:///{work / 'queue.sqlite3'}",
        # PROXY_COUNT is not set here: deploy/gunicorn.conf.py must set it for nginx.
        "CMSKIT_FORMS_SITE_URL": SITE_URL,
        "CMSKIT_FORMS_SITE_DIR": str(site),
        "CMSKIT_FORMS_FAILED_ATTEMPTS_PER_CLIENT": str(WRONG_IDS_PER_CLIENT),
        "FORMS_BIND": f"127.0.0.1:{app_port}",
        "FORMS_WORKERS": "2",
    }
    migrate = subprocess.run(
        [str(BIN / "cmskit-forms"), "migrate"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    demo = subprocess.run(
        [str(BIN / "cmskit-forms"), "demo-id"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    support_id = re.search(r"[A-Z0-9]+(?:-[A-Z0-9]+)+", demo.stdout)
    assert support_id, demo.stdout
    gunicorn = ServerProcess(
        [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")], cwd=ROOT, env=env
    )
    config = nginx_config_for(site, web_port, app_port, work)
    web = ServerProcess([nginx, "-c", str(config), "-g", "daemon off;"], cwd=work, env=env)
    base = f"http://127.0.0.1:{web_port}"
    try:
        wait_for_http(f"http://127.0.0.1:{app_port}/forms/status/", server=gunicorn)
        wait_for_http(base + "/", server=web)
        yield Stack(base, support_id.group(0), gunicorn)
    finally:
        web.stop(signal.SIGTERM)
        gunicorn.stop(signal.SIGTERM)


@pytest.mark.service
@pytest.mark.slow
def test_nginx_serves_pages_with_security_headers(stack: Stack) -> None:
    status, headers, body = _fetch(stack.base_url + "/faq/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "CMSKIT" in body.decode("utf-8")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Server" not in headers or "nginx/" not in headers["Server"]


@pytest.mark.service
@pytest.mark.slow
def test_nginx_compresses_and_caches_assets(stack: Stack, built_site: Path) -> None:
    css = next(built_site.glob("assets/stylesheets/**/main.*.min.css"))
    url = f"{stack.base_url}/{css.relative_to(built_site).as_posix()}"
    status, headers, body = _fetch(url, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == css.read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # stable names whose content follows the content/ (the finder's prices): revalidated
    status, headers, _ = _fetch(f"{stack.base_url}/assets/plan-finder.json")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"


@pytest.mark.service
@pytest.mark.slow
def test_nginx_sends_the_search_index_precompressed_and_cached(
    stack: Stack, built_site: Path
) -> None:
    status, headers, body = _fetch(stack.base_url + "/search/kb/manifest.json")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"  # it names the current build
    build = json.loads(body)["build"]
    shards = (built_site / "search" / "kb" / build / "t").glob("*.bin")
    shard = next(p for p in shards if p.with_name(p.name + ".gz").is_file())
    url = f"{stack.base_url}/{shard.relative_to(built_site).as_posix()}"
    status, headers, body = _fetch(url, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert body == shard.with_name(shard.name + ".gz").read_bytes()  # the build's own .gz
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.service
@pytest.mark.slow
def test_nginx_redirects_directories_and_serves_the_404_page(stack: Stack) -> None:
    status, headers, _ = _fetch(stack.base_url + "/faq")
    assert status == 301
    assert headers["Location"] == "/faq/"
    status, headers, body = _fetch(stack.base_url + "/no-such-page/")
    assert status == 404
    assert "ページが見つかりません" in body.decode("utf-8")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    status, headers, _ = _fetch(stack.base_url + "/feed.xml")
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")


@pytest.mark.service
@pytest.mark.slow
def test_nginx_proxies_the_forms_with_their_own_headers(stack: Stack) -> None:
    status, headers, body = _fetch(stack.base_url + "/forms/feedback/")
    assert status == 200, body[:500]
    page = body.decode("utf-8")
    assert 'name="csrf_token"' in page
    # URLs the app generates carry the /forms prefix it is mounted under.
    assert re.search(r'action="/forms/feedback/?"', page), page[:2000]
    # The sidecar's own policy, not the static pages' one.
    assert "unsafe-inline" not in headers["Content-Security-Policy"].split("script-src")[-1]
    assert "/forms" in headers.get("Set-Cookie", "/forms")
    status, headers, _ = _fetch(stack.base_url + "/forms")
    assert status == 301
    assert headers["Location"] == "/forms/"


def _post(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


@pytest.mark.service
@pytest.mark.slow
def test_too_large_bodies_get_a_japanese_413_from_the_app_or_nginx(stack: Stack) -> None:
    url = stack.base_url + "/forms/feedback/"
    # Above the app's MAX_CONTENT_LENGTH, below nginx's limit: the app's own page.
    status, headers, body = _post(url, b"title=" + b"x" * (300 * 1024))
    page = body.decode("utf-8")
    assert status == 413
    assert "送信内容が大きすぎます" in page and "KiB" in page
    # Above nginx's client_max_body_size: nginx answers, in Japanese, not its English page.
    status, headers, body = _post(url, b"title=" + b"x" * (2 * 1024 * 1024))
    page = body.decode("utf-8")
    assert status == 413
    assert "送信内容が大きすぎます" in page and "「戻る」" in page
    assert "Request Entity Too Large" not in page and "<center>nginx" not in page
    assert headers["Content-Type"].lower().replace(" ", "") == "text/html;charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # ... and in the site's frame (built from it: errors/413.html), as on every site page.
    assert 'class="md-header"' in page and 'class="md-search__input"' in page


def _session_cookie(headers: dict[str, str]) -> str:
    """The sidecar's session cookie from a response, as a browser would send it back.

    The cookie is `Secure` (production settings); nginx here speaks plain HTTP on loopback,
    where a TLS terminator would sit in production, so it is sent back by hand.
    """
    match = re.search(r"cmskit_forms_session=([^;]+)", headers.get("Set-Cookie", ""))
    assert match, headers
    return f"cmskit_forms_session={match.group(1)}"


@pytest.mark.service
@pytest.mark.slow
def test_a_request_submitted_through_nginx_gets_a_receipt_and_a_status(stack: Stack) -> None:
    status, headers, body = _fetch(stack.base_url + "/forms/feedback/")
    assert status == 200
    cookie = _session_cookie(headers)
    fields = feedback_data(stack.support_id, csrf_token=csrf_from(body.decode("utf-8")))
    request = urllib.request.Request(
        stack.base_url + "/forms/feedback/",
        data=urllib.parse.urlencode(fields).encode("utf-8"),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(request, timeout=10)
        raise AssertionError("a successful submit redirects to the thanks page")
    except urllib.error.HTTPError as answer:
        with answer:
            assert answer.code == 303, answer.read()[:800]
            location = answer.headers["Location"]
            cookie = _session_cookie(dict(answer.headers))
    # the redirect stays under /forms/ on this origin (SCRIPT_NAME, not a client header)
    assert urllib.parse.urlsplit(location).path.startswith("/forms/")
    status, _, body = _fetch(urllib.parse.urljoin(stack.base_url, location), {"Cookie": cookie})
    assert status == 200
    receipt = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", body.decode("utf-8"))
    assert receipt, body[:800]
    query = urllib.parse.urlencode({"receipt": receipt.group(0)})
    status, _, body = _fetch(f"{stack.base_url}/forms/status/?{query}")
    assert status == 200
    assert "受付済み" in body.decode("utf-8")


# ---------------------------------------------------- input rules and limits behind nginx


def _browser(stack: Stack, source: str) -> Session:
    """A browser connecting to nginx from its own loopback address (nginx's $remote_addr)."""
    return Session(stack.base_url, source=source)


def _feedback(browser: Session, support_id: str, **extra: str) -> int:
    token = browser.token("/forms/feedback/")
    return browser.post(
        "/forms/feedback/", {**feedback_data(support_id), "csrf_token": token}, extra
    ).status


@pytest.mark.service
@pytest.mark.slow
def test_behind_nginx_each_client_has_its_own_limits(stack: Stack) -> None:
    """Issue 14, point 4: deploy's gunicorn.conf.py trusts nginx's X-Forwarded-For."""
    attacker, customer = _browser(stack, "127.0.0.2"), _browser(stack, "127.0.0.3")
    # A forged X-Forwarded-For does not help: nginx appends the real address, the app takes it.
    forged = {"X-Forwarded-For": "192.0.2.99"}
    codes = [_feedback(attacker, f"CK-WRONG-{n:04d}", **forged)
             for n in range(WRONG_IDS_PER_CLIENT)]
    assert codes == [400] * WRONG_IDS_PER_CLIENT
    assert _feedback(attacker, stack.support_id, **forged) == 429
    assert _feedback(customer, stack.support_id) == 303
    assert "PROXY_COUNT is 0" not in stack.app.output


@pytest.mark.service
@pytest.mark.slow
def test_behind_nginx_the_host_header_does_not_choose_our_urls(stack: Stack) -> None:
    """Issue 14, point 5."""
    browser = _browser(stack, "127.0.0.4")
    token = browser.token("/forms/docs-request/")
    fields = {**docs_data(stack.support_id, page_url="https://evil.com/phish"),
              "csrf_token": token}
    answer = browser.post("/forms/docs-request/", fields, {"Host": "evil.com"})
    assert answer.status == 400 and "このサイトのページのURL" in answer.body
    fields["page_url"] = SITE_URL + "faq/"
    assert browser.post("/forms/docs-request/", fields).status == 303


@pytest.mark.service
@pytest.mark.slow
def test_behind_nginx_a_chunked_body_over_the_limit_gets_a_japanese_413(stack: Stack) -> None:
    """Issue 14, point 8: nginx reads the chunked body and the app or nginx refuses it."""
    browser = _browser(stack, "127.0.0.5")
    token = browser.token("/forms/feedback/")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for size in (300 * 1024, 2 * 1024 * 1024):
        body = urllib.parse.urlencode(
            {**feedback_data(stack.support_id, description="x" * size), "csrf_token": token}
        ).encode("ascii")
        pieces = (body[i:i + 16384] for i in range(0, len(body), 16384))
        answer = browser.request("POST", "/forms/feedback/", pieces, headers)
        assert answer.status == 413, size
        assert "送信内容が大きすぎます" in answer.body, size


@pytest.mark.service
@pytest.mark.slow
def test_with_the_sidecar_down_nginx_answers_the_sites_503_page(
    built_site: Path, tmp_path: Path
) -> None:
    """Nothing listens where gunicorn should: the build's Japanese 503 page, in the frame."""
    nginx = _require_nginx()
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    for path in [tmp_path, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = free_port()
    config = nginx_config_for(site, port, free_port(), tmp_path)
    web = ServerProcess([nginx, "-c", str(config), "-g", "daemon off;"], cwd=tmp_path,
                        env=dict(os.environ))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", server=web)
        status, headers, body = _fetch(f"http://127.0.0.1:{port}/forms/feedback/")
        page = body.decode("utf-8")
        assert status == 503
        assert "ただいま利用できません" in page and "<center>nginx" not in page
        assert 'class="md-header"' in page and 'class="md-tabs__link"' in page
        assert headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        # The page is only an answer to an error, never a page of its own.
        assert _fetch(f"http://127.0.0.1:{port}/errors/503.html")[0] == 404
    finally:
        web.stop(signal.SIGTERM)


# ---------------------------------------------------- "役に立ちましたか?" behind nginx


@pytest.mark.service
@pytest.mark.slow
def test_behind_nginx_a_vote_is_recorded_and_changed_by_its_browser(stack: Stack) -> None:
    """The question page stays cacheable; the vote goes through nginx to either worker."""
    status, headers, page = _fetch(stack.base_url + "/faq/forum/")
    assert status == 200 and 'data-kb-vote="forum"' in page.decode("utf-8")
    assert "no-store" not in headers.get("Cache-Control", "")
    reader = _browser(stack, "127.0.0.5")
    token = json.loads(reader.get("/forms/votes/forum").body)["token"]
    sent = {"Content-Type": "application/json", "X-CSRFToken": token,
            "Origin": stack.base_url, "Referer": stack.base_url + "/faq/forum/"}
    for choice in ("yes", "no"):
        answer = reader.request("POST", "/forms/votes/forum",
                                json.dumps({"vote": choice}).encode(), sent)
        assert answer.status == 200, answer.body
    state = reader.get("/forms/votes/forum")
    assert json.loads(state.body)["vote"] == "no"
    assert state.headers["Cache-Control"] == "no-store"
    forged = reader.request("POST", "/forms/votes/forum", b'{"vote": "yes"}',
                            {**sent, "Origin": "https://attacker.example"})
    assert forged.status == 403
    popular = reader.get("/forms/votes/popular.json")
    assert popular.status == 200 and popular.headers["Cache-Control"] == "public, max-age=300"
