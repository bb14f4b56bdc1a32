"""The Zensical adapter: the exported project, its updates, and the preview loop.

The builds themselves are checked by the site tests, which run on both builds
(tests/each_build.py); here: what `cmskb export --zensical` writes, and that an editor's
change shows in `cmskb serve --builder zensical` without a manual step.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cmskb.cli import main
from cmskb.zensical.config import Tagged, dump_config, load_config
from content_helpers import FIXTURE, copy_fixture, copy_project, edit
from product_fixtures import BIN, ServerProcess, free_port

pytestmark = [pytest.mark.slow]


def export(project: Path, content: Path, out: Path) -> str:
    result = CliRunner().invoke(
        main, ["export", "--zensical", "-f", str(project / "mkdocs.yml"), str(content), str(out)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_exported_configuration_has_what_the_plugin_adds(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    out = tmp_path / "out"
    export(project, FIXTURE, out)
    config = load_config(out / "mkdocs.yml")
    assert "plugins" not in config  # the cmskb entry was the only one
    faq = next(item for item in config["nav"] if "よくあるご質問" in item)["よくあるご質問"]
    assert [next(iter(e.values())) for e in faq[1:]] == [
        "faq/category/installation/index.md", "faq/category/support-contract/index.md"
    ]
    assert config["not_in_nav"].splitlines() == [
        "/editors.md", "/faq/*/index.md", "/news/*/index.md", "/site-frame/index.md"
    ]
    assert config["extra"]["kb"]["search"]["dialog"] == "kb"
    assert config["extra"]["kb"]["feed"]["path"] == "feed.xml"
    assert config["theme"]["custom_dir"] == "overrides"
    assert (out / "overrides" / "partials" / "search.html").is_file()
    assert (out / "overrides" / "main.html").is_file()
    # the toc's slugify function is written back with its tag, for Zensical to resolve
    toc = next(e for e in config["markdown_extensions"] if isinstance(e, dict) and "toc" in e)
    assert isinstance(toc["toc"]["slugify"], Tagged)
    tag = "tag:yaml.org,2002:python/object/apply:pymdownx.slugs.slugify"
    assert toc["toc"]["slugify"].tag == tag
    question = (out / "docs" / "faq" / "install-steps" / "index.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(question.split("---\n")[1])
    assert meta == {**meta, "search": {"exclude": True}} and "json_ld" not in meta
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', question)
    assert json.loads(block)["@type"] == "FAQPage" and "<" not in block
    assert "data-search-exclude data-kb-search-exclude" in question
    assert (out / "docs" / "feed.xml").read_text(encoding="utf-8").startswith("<?xml")


def test_env_tags_survive_a_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mkdocs.yml"
    path.write_text("site_url: !ENV [KB_TEST_URL, 'https://a.example/']\n", encoding="utf-8")
    config = load_config(path)
    assert config["site_url"] == Tagged("!ENV", ["KB_TEST_URL", "https://a.example/"])
    assert config["site_url"].resolve_env() == "https://a.example/"
    monkeypatch.setenv("KB_TEST_URL", "https://b.example/")
    assert config["site_url"].resolve_env() == "https://b.example/"
    again = tmp_path / "again.yml"
    again.write_text(dump_config(config, "header"), encoding="utf-8")
    assert load_config(again)["site_url"] == config["site_url"]


def test_exporting_again_rewrites_only_what_changed(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    content = copy_fixture(tmp_path)
    out = tmp_path / "out"
    export(project, content, out)
    again = export(project, content, out)
    assert "(0 files written, 0 removed)" in again
    rel = "faq/installation/install-steps.yml"
    edit(content, rel, "章に手順があります。", "章に詳しい手順があります。")
    changed = export(project, content, out)
    # the question page, and its category page (the JSON-LD holds the answer)
    assert "(2 files written, 0 removed)" in changed, changed
    (content / "faq" / "installation" / "install-steps.yml").unlink()
    removed = CliRunner().invoke(
        main, ["export", "--zensical", "-f", str(project / "mkdocs.yml"), str(content), str(out)]
    )
    assert removed.exit_code == 1  # other questions link to it: the content check says so
    assert (out / "docs" / "faq" / "install-steps" / "index.md").is_file()


def test_a_folder_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--zensical", str(FIXTURE), str(out)])
    assert result.exit_code == 1 and "not empty" in result.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def _wait(condition: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_an_edit_shows_in_the_zensical_preview_with_its_search_index(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    content = copy_fixture(tmp_path)
    port = free_port()
    work = tmp_path / "preview"
    command = [
        str(BIN / "cmskb"), "serve", "--builder", "zensical", "-f", str(project / "mkdocs.yml"),
        "--content", str(content), "--project-dir", str(work), "-a", f"127.0.0.1:{port}",
    ]
    server = ServerProcess(command, cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/faq/install-steps/"
    try:
        _wait(lambda: "章に手順があります" in _get(url))
        _wait(lambda: "search index rebuilt" in server.output)
        manifest = work / "site" / "search" / "kb" / "manifest.json"
        first_index = manifest.read_bytes()
        edit(content, "faq/installation/install-steps.yml", "章に手順があります。",
             "章に手順があります。プレビュー確認用の一文です。")
        _wait(lambda: "プレビュー確認用の一文です" in _get(url))
        _wait(lambda: manifest.read_bytes() != first_index)
        # bad content: reported, and the preview keeps the last good page
        edit(content, "faq/installation/install-steps.yml", "プレビュー確認用の一文です。",
             "プレビュー確認用の一文です。\nqestion_typo: x")
        _wait(lambda: "install-steps.yml" in server.output and "NG:" in server.output)
        assert "プレビュー確認用の一文です" in _get(url)
    finally:
        _, output = server.stop()
    assert "Traceback" not in output, output


def test_inherit_is_merged_into_the_exported_configuration(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(
        "site_name: Base\ntheme:\n  name: material\n  language: ja\nextra:\n  a: 1\n",
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(
        "INHERIT: base.yml\ntheme:\n  custom_dir: over\nextra:\n  b: 2\n", encoding="utf-8"
    )
    config = load_config(tmp_path / "mkdocs.yml")
    assert config == {
        "site_name": "Base",
        "theme": {"name": "material", "language": "ja", "custom_dir": "over"},
        "extra": {"a": 1, "b": 2},
    }
