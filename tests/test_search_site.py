"""The search in the built site: the MkDocs plugin builds its index and wires Material's
dialog to it; `cmskb search-index` indexes any built site; the run command's server sends
the precompressed parts.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cmskb.cli import main as cmskb
from conftest import CONTENT, require_service
from content_helpers import copy_project
from product_fixtures import mkdocs_build
from search_node import NODE, SearchEngine
from werkzeug.test import Client

from site_server.static import StaticSite

pytestmark = pytest.mark.slow

CONFIG = re.compile(r'<script id="__config" type="application/json">(.*?)</script>', re.S)


def page_config(site: Path, page: str) -> dict[str, object]:
    found = CONFIG.search((site / page).read_text(encoding="utf-8"))
    assert found, f"{page} has no Material config"
    return json.loads(found.group(1))


def test_every_page_asks_our_worker_and_shows_the_search_box(built_site: Path) -> None:
    for page in ("index.html", "faq/password-reset/index.html", "plans/index.html"):
        config = page_config(built_site, page)
        worker = str(config["search"])
        assert re.search(r"assets/javascripts/kb-search-worker\.js\?v=[0-9a-f]{10}$", worker)
        html = (built_site / page).read_text(encoding="utf-8")
        assert 'data-md-component="search"' in html and 'name="search"' in html
    for name in ("kb-search-worker.js", "kb-search-engine.js"):
        assert (built_site / "assets" / "javascripts" / name).is_file()


def test_the_index_replaces_materials(built_site: Path) -> None:
    stub = json.loads((built_site / "search" / "search_index.json").read_text("utf-8"))
    assert stub["docs"] == []
    manifest = json.loads((built_site / "search" / "kb" / "manifest.json").read_text("utf-8"))
    assert (built_site / "search" / "kb" / manifest["build"] / "t").is_dir()
    assert ["料金", "価格", "値段", "費用"] in manifest["synonyms"]


def test_question_pages_carry_their_keywords(built_site: Path) -> None:
    html = (built_site / "faq" / "password-reset" / "index.html").read_text("utf-8")
    assert re.search(r'<meta name="keywords" content="[^"]*パスワード', html)


@pytest.mark.service
def test_the_shipped_editors_guide_is_not_searched(built_site: Path) -> None:
    require_service("node", NODE is not None, "Node.js runs the browser engine in these tests")
    engine = SearchEngine(built_site)
    try:
        pages = engine.search("編集ガイド プレースホルダー YAML")["pages"]
        support = engine.search("有償サポート")["pages"]
    finally:
        engine.close()
    assert not [p for p in pages if p.startswith("/editors/")]
    assert support  # the same engine does find other pages


def test_materials_search_plugin_beside_ours_stops_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("plugins:\n", "plugins:\n  - search\n", 1), encoding="utf-8")
    result = mkdocs_build(tmp_path / "site", config_file=config)
    assert result.returncode != 0
    assert "plugins から search を外してください" in result.stdout + result.stderr


def test_search_can_be_turned_off(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  - cmskb:\n", "  - cmskb:\n      search: false\n", 1),
                      encoding="utf-8")
    site = tmp_path / "site"
    result = mkdocs_build(site, config_file=config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (site / "search").exists()
    assert 'data-md-component="search"' not in (site / "index.html").read_text("utf-8")


def test_search_index_command_indexes_a_built_site(built_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    shutil.rmtree(site / "search")
    result = CliRunner().invoke(cmskb, ["search-index", str(site), "--content", str(CONTENT)])
    assert result.exit_code == 0, result.output
    assert re.match(r"indexed \d+ pages", result.output)
    assert (site / "search" / "kb" / "manifest.json").is_file()


def test_the_run_commands_server_sends_precompressed_parts(built_site: Path) -> None:
    manifest = json.loads((built_site / "search" / "kb" / "manifest.json").read_text("utf-8"))
    shards = (built_site / "search" / "kb" / manifest["build"] / "t").glob("*.bin")
    shard = next(p for p in shards if p.with_name(p.name + ".gz").is_file())
    path = "/" + shard.relative_to(built_site).as_posix()
    client = Client(StaticSite(built_site))
    packed = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == shard.read_bytes()
    plain = client.get(path)
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data() == shard.read_bytes()
