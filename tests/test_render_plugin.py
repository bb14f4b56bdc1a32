"""The MkDocs adapter's configuration step and helpers, without a full build."""

from __future__ import annotations

from pathlib import Path

import pytest
from cmskb.site_files import insert_after
from content_helpers import FIXTURE, copy_fixture, copy_project
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError


def configure(tmp_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch) -> MkDocsConfig:
    copy_project(tmp_path)
    monkeypatch.setenv("CMSKB_CONTENT_DIR", str(content_dir))
    config = load_config(config_file=str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "s"))
    return config.plugins.on_config(config)


def test_on_config_watches_content_and_lists_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configure(tmp_path, FIXTURE, monkeypatch)
    assert str(FIXTURE.resolve()) in config.watch
    faq = next(item for item in config.nav if "よくあるご質問" in item)["よくあるご質問"]
    assert faq[0] == "faq/index.md"
    targets = [next(iter(entry.values())) for entry in faq[1:]]
    assert targets == [
        "faq/category/installation/index.md",
        "faq/category/support-contract/index.md",
    ]


def test_on_config_stops_on_bad_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = copy_fixture(tmp_path)
    (broken / "plans.yml").write_text("tax: [\n", encoding="utf-8")
    with pytest.raises(PluginError, match="1 件の問題があります。サイトは作られていません"):
        configure(tmp_path / "project", broken, monkeypatch)


def test_insert_after_finds_nested_anchor_once() -> None:
    nav = [{"Home": "index.md"}, {"FAQ": ["faq/index.md", {"Known": "faq/category/a/index.md"}]}]
    entries = [{"A": "faq/category/a/index.md"}, {"B": "faq/category/b/index.md"}]
    assert insert_after(nav, "faq/index.md", entries)
    assert nav[1]["FAQ"] == [  # type: ignore[index]
        "faq/index.md",
        {"B": "faq/category/b/index.md"},
        {"Known": "faq/category/a/index.md"},
    ]
    assert not insert_after([{"Home": "index.md"}], "faq/index.md", entries)
