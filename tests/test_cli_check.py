"""`cmskb check` and `cmskb export`: exit codes and output, through CliRunner and once for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cmskb.cli import main
from cmskb.content.loader import load_content
from cmskb.site_files import generate
from content_helpers import FIXTURE, copy_fixture, edit


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The fixture with two mistakes in two files."""
    root = copy_fixture(tmp_path)
    edit(root, "plans.yml", "price_excl_tax: 80000", 'price_excl_tax: "80,000"')
    edit(root, "news/2026-09-maintenance.yml", "title:", "titel:")
    return root


def test_check_ok_prints_one_summary_line() -> None:
    result = CliRunner().invoke(main, ["check", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "OK: 質問 4 件(カテゴリー 2 件)、お知らせ 2 件、プラン 9 件"
        "(ほかに下書き 1 件は公開されません)\n"
    )


def test_check_reports_problems_like_a_compiler(broken: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(broken)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    prefix = broken.as_posix()
    assert lines[0] == (
        f'{prefix}/news/2026-09-maintenance.yml:1: title: 必須の項目 "title" がありません。'
    )
    assert lines[1].startswith("    ヒント: ")
    assert (
        f'{prefix}/news/2026-09-maintenance.yml:3: titel: 不明なキー "titel" があります。' in lines
    )
    assert any(
        line.startswith(f"{prefix}/plans.yml:11: plans[0].price_excl_tax: 整数が必要ですが")
        for line in lines
    )
    assert lines[-1] == "NG: 3 件の問題があります。直してからもう一度検査してください。"


def test_check_json_for_ci(broken: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(broken)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    by_field = {p["field"]: p for p in data["problems"]}
    assert set(by_field) == {"title", "titel", "plans[0].price_excl_tax"}
    price = by_field["plans[0].price_excl_tax"]
    assert (price["file"], price["line"]) == ("plans.yml", 11)
    assert price["path"] == f"{broken.as_posix()}/plans.yml"
    assert "80000" in price["hint"]


def test_check_json_ok() -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(FIXTURE)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["problems"] == []
    assert data["counts"] == {"questions": 4, "drafts": 1, "categories": 2, "news": 2, "plans": 9}


def test_check_defaults_to_content_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_fixture(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 質問 4 件")


def test_check_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_check_as_a_real_process(broken: Path) -> None:
    command = [sys.executable, "-m", "cmskb.cli", "check", str(broken)]
    failed = subprocess.run(command, capture_output=True, text=True, encoding="utf-8")
    assert failed.returncode == 1
    assert f"{broken.as_posix()}/plans.yml:11: plans[0].price_excl_tax:" in failed.stdout
    script = Path(sys.executable).with_name("cmskb")  # the console script from pyproject
    ok = subprocess.run([str(script), "check", str(FIXTURE)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK: 質問 4 件(カテゴリー 2 件)、お知らせ 2 件、プラン 9 件")


def test_export_writes_the_rendered_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", str(FIXTURE), str(out)])
    assert result.exit_code == 0, result.output
    generated = generate(load_content(FIXTURE))
    written = {
        path.relative_to(out).as_posix(): path.read_text(encoding="utf-8")
        for path in out.rglob("*")
        if path.is_file()
    }
    assert written == {**generated.pages, **generated.assets}
    assert 'id="plan-finder"' in written["plans/index.md"]
    assert "assets/plan-finder.json" in written
    assert result.output == (
        f"wrote {len(generated.pages)} pages and {len(generated.assets)} assets to {out}\n"
    )


def test_export_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.md").write_text("mine\n")
    result = CliRunner().invoke(main, ["export", str(FIXTURE), str(out)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (out / "keep.md").read_text() == "mine\n"
    forced = CliRunner().invoke(main, ["export", "--force", str(FIXTURE), str(out)])
    assert forced.exit_code == 0, forced.output
    assert (out / "keep.md").read_text() == "mine\n"
    assert len(list(out.rglob("*.md"))) > 1


def test_export_of_broken_content_writes_nothing(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", str(broken), str(out)])
    assert result.exit_code == 1
    assert "plans[0].price_excl_tax" in result.output
    assert not out.exists()


def test_check_compares_news_quotes_with_the_support_page(tmp_path: Path) -> None:
    page = tmp_path / "support-page.txt"
    # the fixture quotes 最新の製品情報閲覧; width and line breaks do not matter
    page.write_text("無償サポートサービスの内容\n- 【ニュース】 最新の製品\n情報閲覧\n", "utf-8")
    ok = CliRunner().invoke(main, ["check", str(FIXTURE), "--support-page", str(page)])
    assert ok.exit_code == 0, ok.output
    page.write_text("無償サポートサービスの内容\n- 【ニュース】 製品情報\n", "utf-8")
    result = CliRunner().invoke(main, ["check", str(FIXTURE), "--support-page", str(page)])
    assert result.exit_code == 1
    assert (f"{FIXTURE.as_posix()}/news/2026-10-release-7-2.yml:1: quote: "
            "quote「最新の製品情報閲覧」はサポートサービスのご案内にそのまま書かれていません。"
            ) in result.output
    assert result.output.splitlines()[-1].startswith("NG: 1 件の問題")
