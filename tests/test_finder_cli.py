"""`cmskb finder`: the plan finder for support staff on the command line."""

from __future__ import annotations

import json
import shutil

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


# The rules of the shipped plans.yml, as the answers state them (one sentence each).
SHIPPED_RULES = [
    "1案件につき1チケットを使うものとして計算しています。",
    "サポート契約は同時に1つだけ持ち、契約期間が終わってから次の契約を結ぶものとして計算しています。",
    "追加チケット1(H)は、どのサポート契約(A〜G)の期間中でも買えるものとして計算しています。",
    "マイナーバージョンアップは、CMSKITクラウドではサポート契約がなくても、"
    "ほかの製品ではサポート契約の期間中だけ受けられるものとして計算しています。",
]


def test_prints_the_cheapest_option_the_runner_up_and_the_rules_in_japanese(run) -> None:
    result = run(*EXAMPLE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("条件: 導入型(無期限)、マイナーバージョンアップ必要、3年間")
    assert lines[1] == "計算の前提:"
    assert lines[2 : 2 + len(SHIPPED_RULES)] == [f"- {rule}" for rule in SHIPPED_RULES]
    first = lines.index("案1(最安): 合計 369,600円(税込)/336,000円(税別)")
    # B + 2 H costs what A + 12 H costs: the fewer purchases come first
    assert "B 1年間サポート(18チケット付) + 追加チケット1(H)×2" in lines[first + 1]
    assert "案2(次点、最安との差 0円): 合計 369,600円(税込)/336,000円(税別)" in lines
    assert not any(line.startswith("案3") for line in lines)  # D + A is 13 % dearer


def test_json_output_names_its_assumptions(run) -> None:
    result = run(*EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["found"] is True
    assert data["assumptions"][: len(SHIPPED_RULES)] == SHIPPED_RULES
    assert "購入の数が少ない案" in data["ranking"]
    best, runner_up = data["options"]
    assert (best["total_incl_tax"], best["total_excl_tax"], best["purchases"],
            best["addon_tickets"]) == (369_600, 336_000, 5, 2)
    assert [step["bought"] for step in best["schedule"]] == [["B"], ["A"], ["A"]]
    assert best["contracts_bought"] == [{"year": 1, "plan": "B"}, {"year": 2, "plan": "A"},
                                        {"year": 3, "plan": "A"}]
    assert best["schedule"][0]["addon_tickets"] == 2 and best["schedule"][1]["unused"] == 3
    assert runner_up["purchases"] == 15


def test_help_states_the_rules_the_answer_rests_on(run) -> None:
    result = CliRunner().invoke(main, ["finder", "--help"])
    assert result.exit_code == 0
    for name in ("tickets_per_case", "contracts_at_once", "addon_tickets_with",
                 "version_ups_without_contract"):
        assert f"- {name}: " in result.output
    assert "購入の数が少ない案" in result.output and "5%以内" in result.output


def test_answers_follow_the_rules_of_the_content_folder(tmp_path, content_root) -> None:
    content = tmp_path / "content"
    shutil.copytree(content_root, content)
    plans = content / "plans.yml"
    plans.write_text(plans.read_text(encoding="utf-8").replace(
        "contracts_at_once: 1", "contracts_at_once: 2"), encoding="utf-8")
    result = CliRunner().invoke(main, [
        "finder", "--product", "onprem-perpetual", "--version-ups", "--years", "3",
        "--first-year", "60", "--later-years", "60", "--json", "--content", str(content)])
    data = json.loads(result.output)
    two = "サポート契約は同時に2件まで重ねて持てるものとして計算しています。"
    assert two in data["assumptions"]
    assert data["options"][0]["total_excl_tax"] == 1_200_000  # F, and F again a year later


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
