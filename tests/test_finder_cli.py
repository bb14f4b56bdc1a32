"""`cmskb finder`: the plan finder for support staff on the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from cmskb.cli import main

EXAMPLE = ["finder", "--product", "onprem-perpetual", "--version-ups", "--years", "3",
           "--first-year", "20", "--later-years", "5"]


@pytest.fixture
def run(content_root):
    def invoke(*args: str):
        return CliRunner().invoke(main, [*args, "--content", str(content_root)])

    return invoke


def test_prints_the_cheapest_options_in_japanese(run) -> None:
    result = run(*EXAMPLE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("条件: 導入型(無期限)、マイナーバージョンアップ必要、3年間")
    first = lines.index(next(line for line in lines if line.startswith("案1")))
    assert lines[first] == "案1: 合計 369,600円(税込)/336,000円(税別)"
    assert "A 1年間サポート(8チケット付) + 追加チケット1(H)×12" in lines[first + 1]
    assert "案3: 合計 418,000円(税込)/380,000円(税別)" in lines


def test_json_output(run) -> None:
    result = run(*EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["found"] is True
    best = data["options"][0]
    assert (best["total_incl_tax"], best["total_excl_tax"], best["addon_tickets"]) == (
        369_600, 336_000, 12)
    assert [step["plan"] for step in best["schedule"]] == ["A", "A", "A"]
    assert best["schedule"][0]["extra_count"] == 12 and best["schedule"][1]["unused"] == 3


def test_says_plainly_when_nothing_fits(run) -> None:
    result = run("finder", "--product", "asp", "--version-ups", "--years", "1",
                 "--first-year", "2", "--no-contract")
    assert result.exit_code == 0
    assert "条件に合う組み合わせはありません。" in result.output
    data = json.loads(run("finder", "--product", "asp", "--version-ups", "--years", "1",
                          "--first-year", "2", "--no-contract", "--json").output)
    assert data["found"] is False and data["options"] == [] and data["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--product", "nope", "--years", "1", "--first-year", "1"], "onprem-perpetual"),
        (["--product", "asp", "--years", "2", "--first-year", "1"], "--later-years"),
        (["--product", "asp", "--years", "6", "--first-year", "1"], "1<=x<=5"),
        (["--product", "asp", "--years", "1", "--first-year", "-3"], "0<=x<=999"),
    ],
)
def test_bad_input_is_refused_clearly(run, args: list[str], message: str) -> None:
    result = run("finder", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_bad_content_folder_reports_problems(tmp_path) -> None:
    result = CliRunner().invoke(main, [*EXAMPLE, "--content", str(tmp_path)])
    assert result.exit_code == 1
    assert "site.yml" in result.output
