"""Content checks that keep the site true: typed prices, price comparisons the table does
not confirm, the tickets-per-case rule stated once, the rules of plans.yml and the source
of news items.

Each test changes a copy of tests/fixtures/content-min (the seed's prices: per ticket, tax
included, A 11,000, B about 9,778, C 8,800, D 8,250, E 7,700, F 7,150, G 38,500, H 8,800,
I 13,200 yen) and reads what load_content reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from content_helpers import copy_fixture, edit, find, problems_of

Q1 = "faq/installation/install-requirements.yml"  # answer text starts on line 4
Q1_SECOND = "詳しい条件は製品マニュアルをご覧ください。"
NEWS = "news/2026-09-maintenance.yml"
SEED_NEWS = "news/2026-10-release-7-2.yml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def say(root: Path, text: str) -> None:
    """Put `text` as the second line of Q1's answer (file line 5)."""
    edit(root, Q1, Q1_SECOND, text)


def answer(root: Path) -> str:
    return next(q.answer for q in load_content(root).questions if q.id == "install-requirements")


# -- typed yen figures, in any text of any file -------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "new", "line", "field"),
    [
        ("support.yml", "    - オンサイトでの対応は行いません。",
         "    - オンサイトでの対応は行いません(交通費は11,000円)。", 23, "paid.conditions[0]"),
        ("recommendations.yml", "reason: 1年で使えるチケット数が最も多い契約です。",
         "reason: 264,000円で1年で使えるチケット数が最も多い契約です。", 13, "cases[2].reason"),
        ("faq/support-contract/ticket-expiry.yml", "question: チケットに有効期限はありますか。",
         "question: 8,800円のチケットに有効期限はありますか。", 2, "question"),
    ],
)
def test_typed_figures_are_found_in_every_text(
    root: Path, rel: str, old: str, new: str, line: int, field: str
) -> None:
    edit(root, rel, old, new)
    problem = find(problems_of(root), rel, line, field)
    assert "円」が直接書かれています" in problem.message
    assert "{{price_incl:" in problem.hint or "{{per_ticket_incl:" in problem.hint


# -- price comparisons --------------------------------------------------------------------


@pytest.mark.parametrize(
    "claim",
    [
        # the example: G (5 years) costs 38,500 yen a ticket, the most of all
        "期間が長いプランほど1チケットあたりの料金が下がります。",
        "G は1チケットあたりの料金が最も安いプランです。",
        "1年間のプランの中では A が1チケットあたり最も安くなります。",
        "G は D より1チケットあたりの料金が割安です。",
        "まとめて買うとお得です。",
        "長期の契約ほど料金がお得です。",
    ],
)
def test_comparisons_the_table_contradicts_or_cannot_confirm_are_problems(
    root: Path, claim: str
) -> None:
    say(root, claim)
    problem = find(problems_of(root), Q1, 5, "answer")
    assert claim.rstrip("。") in problem.message
    assert "{{per_ticket_ranking}}" in problem.hint


def test_a_false_comparison_names_the_plans_that_prove_it_wrong(root: Path) -> None:
    say(root, "期間が長いプランほど1チケットあたりの料金が下がります。")
    message = find(problems_of(root), Q1, 5, "answer").message
    assert "A の1チケットあたりの税込料金が11,000円、G が38,500円です" in message


@pytest.mark.parametrize(
    "claim",
    [
        "1チケットあたりの料金は、F が最も安くなります。",
        "「5年間サポート(80チケット付)」は1チケットあたりの単価が最も低いプランです。",
        "1年間のプランの中では C が1チケットあたり最も安くなります。",
        "D は C より1チケットあたりの料金が安くなります。",
        "G は A より料金が高いプランです。",
        "付属チケットが多いプランほど1チケットあたりの料金が下がります。",
        "1チケットあたりの税込料金の安い順に並べると、{{per_ticket_ranking}}です。",
        "1チケットあたりが最も安いのは{{cheapest_per_ticket}}です。",
        "1チケットあたりの料金が最も安いのはどのプランですか?",
        "あなたに合うプランを探すと、いちばん安い組み合わせがわかります。",
    ],
)
def test_comparisons_the_table_confirms_pass(root: Path, claim: str) -> None:
    say(root, claim)
    load_content(root)


def test_a_plan_description_speaks_of_its_own_plan(root: Path) -> None:
    edit(root, "plans.yml", "年間サポート契約をお持ちの方が、チケットを買い足すときに使います。",
         "1チケットあたりの料金が最も安いチケットです。")
    problem = find(problems_of(root), "plans.yml", 69, "plans[7].description")
    assert "F" in problem.message and "H ではありません" in problem.message
    edit(root, "plans.yml", "1チケットあたりの料金が最も安いチケットです。",
         "1チケットあたりの料金がスポットチケットより安いチケットです。")
    load_content(root)


def test_computed_comparisons_expand_from_the_table(root: Path) -> None:
    say(root, "{{cheapest_per_ticket}}/{{per_ticket_ranking}}")
    assert ("「5年間サポート(80チケット付)」(F)/F(7,150円)、E(7,700円)、D(8,250円)、"
            "C(8,800円)、H(8,800円)、B(約9,778円)、A(11,000円)、I(13,200円)、G(38,500円)"
            ) in answer(root)


# -- the tickets-per-case rule: stated once ------------------------------------------------


@pytest.mark.parametrize(
    "restatement",
    [
        "1案件ごとに所定のチケットを消費します。",
        "作業の内容に応じてサポートチケットを消費します。",
        "必要なチケットの枚数は作業内容によって異なります。",
        "1件のご質問ごとにサポートチケットを消費します。",
    ],
)
def test_restating_the_ticket_rule_is_a_problem(root: Path, restatement: str) -> None:
    say(root, restatement)
    problem = find(problems_of(root), Q1, 5, "answer")
    assert "rules.ticket_rule" in problem.message and "{{ticket_rule}}" in problem.hint


def test_the_ticket_rule_is_written_once_and_placed_where_needed(root: Path) -> None:
    say(root, "{{ticket_rule}}")
    assert "1件ごとに所定のチケットが必要です。" in answer(root)
    # plain-text fields cannot use the placeholder: there the restatement is a problem
    edit(root, "support.yml", "    - 有効期限が切れたチケットは使えません。",
         "    - 有効期限が切れたチケットは使えません。\n    - 1件ごとに所定のチケットが必要です。")
    find(problems_of(root), "support.yml", 25, "paid.conditions[2]")


# -- the rules of plans.yml -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("tickets_per_case: 1", "tickets_per_case: 0", "rules.tickets_per_case", "1 以上"),
        ("tickets_per_case: 1", "tickets_per_case: 100", "rules.tickets_per_case", "99枚まで"),
        ("contracts_at_once: 1", "contracts_at_once: 4", "rules.contracts_at_once", "1〜3"),
        ("addon_tickets_with: any_contract", "addon_tickets_with: any", "rules.addon_tickets_with",
         "any_contract / one_year_contracts"),
        ("version_ups_without_contract: [cloud]", "version_ups_without_contract: [clowd]",
         "rules.version_ups_without_contract[0]", 'site.yml の products にありません'),
        ("version_ups_without_contract: [cloud]", "version_ups_without_contract: [cloud, cloud]",
         "rules.version_ups_without_contract[1]", "2 回"),
    ],
)
def test_rules_are_validated(root: Path, old: str, new: str, field: str, message: str) -> None:
    edit(root, "plans.yml", old, new)
    problems = [p for p in problems_of(root) if p.file == "plans.yml" and p.field == field]
    assert len(problems) == 1 and message in problems[0].message, problems


def test_rules_are_required(root: Path) -> None:
    text = (root / "plans.yml").read_text(encoding="utf-8")
    (root / "plans.yml").write_text(text.split("rules:")[0], encoding="utf-8")
    assert '必須の項目 "rules"' in find(problems_of(root), "plans.yml", 1, "rules").message


def test_the_version_up_flag_moved_from_site_yml(root: Path) -> None:
    edit(root, "site.yml", "    name: CMSKITクラウド\n",
         "    name: CMSKITクラウド\n    minor_version_ups_without_contract: true\n")
    field = "products[0].minor_version_ups_without_contract"
    problem = find(problems_of(root), "site.yml", 13, field)
    assert "rules.version_ups_without_contract" in problem.message


# -- the source of news items ---------------------------------------------------------------


def test_a_news_item_needs_a_source(root: Path) -> None:
    edit(root, NEWS, "source: site\n", "")
    assert '必須の項目 "source"' in find(problems_of(root), NEWS, 1, "source").message


@pytest.mark.parametrize(
    ("rel", "old", "new", "line", "field", "message"),
    [
        (NEWS, "source: site", "source: press", 6, "source", "seed / site / generic"),
        (SEED_NEWS, "quote: 最新の製品情報閲覧\n", "", 7, "quote", "文言(quote)が必要"),
        (NEWS, "source: site", "source: site\nquote: 何か", 7, "quote", "source: seed のときだけ"),
    ],
)
def test_news_sources_are_validated(
    root: Path, rel: str, old: str, new: str, line: int, field: str, message: str
) -> None:
    edit(root, rel, old, new)
    assert message in find(problems_of(root), rel, line, field).message
