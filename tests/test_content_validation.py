"""Validation errors, one kind per test: each names file, line, field and what was expected.

Every test changes one thing in a copy of tests/fixtures/content-min and checks the
problem that load_content reports for it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from content_helpers import copy_fixture, edit, find, problems_of

Q1 = "faq/installation/install-requirements.yml"
Q2 = "faq/installation/install-steps.yml"
Q_ADDON = "faq/support-contract/addon-ticket.yml"
NEWS = "news/2026-09-maintenance.yml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


# -- YAML itself -------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line(root: Path) -> None:
    edit(root, NEWS, "title: テスト用サイトのお知らせ", 'title: "閉じない引用符')
    problems = problems_of(root)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == NEWS
    assert problem.line == 3  # where the quote was opened, not the end of the file
    assert "YAML の書き方に誤りがあります" in problem.message
    assert "引用符" in problem.hint


def test_yaml_colon_in_value_error(root: Path) -> None:
    edit(root, NEWS, "title: テスト用サイトのお知らせ", "title: 時間: 夜間")
    problem = find(problems_of(root), NEWS, 3, "")
    assert "mapping values are not allowed" in problem.message
    assert "引用符で囲む" in problem.hint


def test_tab_indentation_is_explained(root: Path) -> None:
    edit(
        root,
        "faq/categories.yml",
        "  - id: support-contract\n    title",
        "  - id: support-contract\n\ttitle",
    )
    problems = problems_of(root)
    assert len(problems) == 1
    assert problems[0].file == "faq/categories.yml"
    assert problems[0].line == 6
    assert "タブ" in problems[0].hint


def test_duplicate_key_in_one_mapping(root: Path) -> None:
    edit(root, NEWS, "title: テスト用サイトのお知らせ\n", "title: A\ntitle: B\n")
    problem = find(problems_of(root), NEWS, 4, "title")
    assert "2 回" in problem.message
    assert "3 行目" in problem.message


def test_two_documents_in_one_file(root: Path) -> None:
    (root / NEWS).write_text(
        (root / NEWS).read_text(encoding="utf-8") + "---\nid: other\n", encoding="utf-8"
    )
    problem = find(problems_of(root), NEWS, 7, "")
    assert "single document" in problem.message
    assert "---" in problem.hint


def test_empty_file(root: Path) -> None:
    (root / NEWS).write_text("# nothing yet\n", encoding="utf-8")
    problem = find(problems_of(root), NEWS, 1, "")
    assert "空" in problem.message


def test_file_not_utf8(root: Path) -> None:
    (root / NEWS).write_bytes("id: 2026-09-maintenance\ntitle: お知らせ\n".encode("shift_jis"))
    problem = find(problems_of(root), NEWS, 2, "")
    assert "UTF-8" in problem.message


def test_control_character(root: Path) -> None:
    (root / NEWS).write_text("id: 2026-09-maintenance\ntitle: a\x01b\n", encoding="utf-8")
    problem = find(problems_of(root), NEWS, 2, "")
    assert "制御文字 (#x0001)" in problem.message


def test_top_level_not_a_mapping(root: Path) -> None:
    (root / NEWS).write_text("- id: 2026-09-maintenance\n", encoding="utf-8")
    problem = find(problems_of(root), NEWS, 1, "")
    assert "対応表" in problem.message and "リスト" in problem.message


# -- types -------------------------------------------------------------------------------


def test_price_with_commas_is_not_an_integer(root: Path) -> None:
    edit(root, "plans.yml", "price_excl_tax: 80000", 'price_excl_tax: "80,000"')
    problem = find(problems_of(root), "plans.yml", 11, "plans[0].price_excl_tax")
    assert "整数が必要ですが" in problem.message and '"80,000"' in problem.message
    assert "80000" in problem.hint


def test_number_written_as_string(root: Path) -> None:
    edit(
        root,
        "plans.yml",
        "tickets: 8\n    price_excl_tax: 80000",
        'tickets: "8"\n    price_excl_tax: 80000',
    )
    problem = find(problems_of(root), "plans.yml", 10, "plans[0].tickets")
    assert '文字列 "8"' in problem.message
    assert "引用符を付けずに 8" in problem.hint


def test_octal_looking_integer_is_refused(root: Path) -> None:
    edit(root, "plans.yml", "validity_months: 1\n", "validity_months: 01\n")
    problem = find(problems_of(root), "plans.yml", 73, "plans[8].validity_months")
    assert "10 進の整数" in problem.message


def test_yes_no_are_booleans_not_text(root: Path) -> None:
    edit(root, Q2, "question: インストールの手順はどこで確認できますか。", "question: no")
    problem = find(problems_of(root), Q2, 2, "question")
    assert "文字列が必要ですが、真偽値 no" in problem.message
    assert '"no"' in problem.hint


def test_number_in_a_text_list(root: Path) -> None:
    edit(root, Q1, "tags: [動作環境]", "tags: [動作環境, 2026]")
    problem = find(problems_of(root), Q1, 7, "tags[1]")
    assert "整数 2026" in problem.message
    assert '"2026"' in problem.hint


def test_boolean_written_as_string(root: Path) -> None:
    edit(
        root,
        "plans.yml",
        "minor_version_up: true\n    tickets: 8\n    price_excl_tax: 80000",
        'minor_version_up: "true"\n    tickets: 8\n    price_excl_tax: 80000',
    )
    problem = find(problems_of(root), "plans.yml", 9, "plans[0].minor_version_up")
    assert "真偽値" in problem.message


def test_unknown_enum_value_suggests_nearest(root: Path) -> None:
    edit(root, "plans.yml", "rounding: floor", "rounding: flor")
    problem = find(problems_of(root), "plans.yml", 3, "tax.rounding")
    assert "floor / half_up / ceil" in problem.message
    assert '"floor"' in problem.hint


def test_tax_rate_out_of_range(root: Path) -> None:
    edit(root, "plans.yml", "rate: 0.10", "rate: 10")
    problem = find(problems_of(root), "plans.yml", 2, "tax.rate")
    assert "0 以上 1 未満" in problem.message


def test_tax_rate_as_percent_text(root: Path) -> None:
    edit(root, "plans.yml", "rate: 0.10", "rate: 10%")
    problem = find(problems_of(root), "plans.yml", 2, "tax.rate")
    assert '数値が必要ですが、文字列 "10%"' in problem.message


def test_list_expected(root: Path) -> None:
    edit(root, Q1, "products: [onprem-perpetual, onprem-annual]", "products: onprem-perpetual")
    problem = find(problems_of(root), Q1, 6, "products")
    assert "リストが必要ですが" in problem.message


def test_url_expected(root: Path) -> None:
    edit(
        root,
        "site.yml",
        "forum_url: https://forum.example.jp/cmskit/",
        "forum_url: forum.example.jp",
    )
    problem = find(problems_of(root), "site.yml", 4, "forum_url")
    assert "https://" in problem.message


def test_form_path_must_be_a_site_path(root: Path) -> None:
    edit(root, "site.yml", "feedback: /forms/feedback/", "feedback: forms/feedback")
    problem = find(problems_of(root), "site.yml", 7, "forms.feedback")
    assert "/ で始まり / で終わる" in problem.message


# -- required, unknown, empty ------------------------------------------------------------


def test_missing_required_field(root: Path) -> None:
    edit(root, Q2, "answer: |\n  製品マニュアルの「インストール」の章に手順があります。\n", "")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, Q2, 1, "answer")
    assert '必須の項目 "answer" がありません' in problem.message
    assert '"answer: ..."' in problem.hint


def test_missing_field_inside_a_list_item(root: Path) -> None:
    edit(root, "plans.yml", "    tickets: 30\n", "")
    problem = find(problems_of(root), "plans.yml", 21, "plans[2].tickets")
    assert "必須" in problem.message


def test_unknown_key_suggests_the_nearest_known_key(root: Path) -> None:
    edit(root, NEWS, "title:", "titel:")
    problems = problems_of(root)
    unknown = find(problems, NEWS, 3, "titel")
    assert '不明なキー "titel"' in unknown.message
    assert '"title" の書き間違い' in unknown.hint
    missing = find(problems, NEWS, 1, "title")
    assert "必須" in missing.message


def test_unknown_key_without_a_near_match_lists_known_keys(root: Path) -> None:
    edit(root, NEWS, "title:", "xyz: 1\ntitle:")
    problem = find(problems_of(root), NEWS, 3, "xyz")
    assert "id, date, title, body, source, category, quote" in problem.hint


def test_whitespace_only_text_is_empty(root: Path) -> None:
    edit(
        root,
        Q2,
        "answer: |\n  製品マニュアルの「インストール」の章に手順があります。\n",
        'answer: "   "\n',
    )
    problem = find(problems_of(root), Q2, 3, "answer")
    assert "空です" in problem.message


def test_null_value_for_required_text(root: Path) -> None:
    edit(root, NEWS, "title: テスト用サイトのお知らせ", "title:")
    problem = find(problems_of(root), NEWS, 3, "title")
    assert "空の値" in problem.message
    assert "値を書いて" in problem.hint


def test_empty_required_list(root: Path) -> None:
    edit(root, Q1, "products: [onprem-perpetual, onprem-annual]", "products: []")
    problem = find(problems_of(root), Q1, 6, "products")
    assert "1 個以上" in problem.message


# -- dates -------------------------------------------------------------------------------


def test_impossible_date(root: Path) -> None:
    edit(root, Q1, "updated: 2026-10-01", "updated: 2026-02-30")
    problem = find(problems_of(root), Q1, 9, "updated")
    assert '存在しない日付 "2026-02-30"' in problem.message


def test_impossible_date_written_as_string(root: Path) -> None:
    edit(root, NEWS, "date: 2026-09-20", 'date: "2026-02-30"')
    problem = find(problems_of(root), NEWS, 2, "date")
    assert "存在しない日付" in problem.message


def test_date_in_wrong_format(root: Path) -> None:
    edit(root, NEWS, "date: 2026-09-20", "date: 2026/09/20")
    problem = find(problems_of(root), NEWS, 2, "date")
    assert "日付(年-月-日)が必要ですが" in problem.message
    assert "2026-10-01" in problem.hint


def test_date_with_time(root: Path) -> None:
    edit(root, NEWS, "date: 2026-09-20", "date: 2026-09-20 10:00:00")
    problem = find(problems_of(root), NEWS, 2, "date")
    assert "時刻付き" in problem.message


# -- ids ---------------------------------------------------------------------------------


def test_id_not_url_safe(root: Path) -> None:
    edit(root, NEWS, "id: 2026-09-maintenance", "id: 2026-09-メンテ")
    problem = find(problems_of(root), NEWS, 1, "id")
    assert "URL に使える ID" in problem.message
    assert "英小文字" in problem.hint


def test_category_id_with_capitals_and_underscore(root: Path) -> None:
    edit(root, "faq/categories.yml", "id: support-contract", "id: Support_Contract")
    problems = problems_of(root)
    problem = find(problems, "faq/categories.yml", 5, "categories[1].id")
    assert '"support-contract"' in problem.hint


def test_id_differs_from_file_name(root: Path) -> None:
    (root / NEWS).rename(root / "news/2026-09-maint.yml")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "news/2026-09-maint.yml", 1, "id")
    assert 'ファイル名と同じ "2026-09-maint"' in problem.message


def test_duplicate_question_id_across_categories(root: Path) -> None:
    shutil.copy(root / Q2, root / "faq/support-contract/install-steps.yml")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "faq/support-contract/install-steps.yml", 1, "id")
    assert f"{Q2}:1" in problem.message


def test_duplicate_news_id(root: Path) -> None:
    copy = "news/2026-09-copy.yml"
    (root / copy).write_text((root / NEWS).read_text(encoding="utf-8"), encoding="utf-8")
    problems = problems_of(root)
    duplicate = next(p for p in problems if "でも使われています" in p.message)
    assert (duplicate.file, duplicate.line, duplicate.field) == (copy, 1, "id")
    assert f'"2026-09-maintenance" は {NEWS}:1' in duplicate.message
    assert {(p.file, p.field) for p in problems} == {(copy, "id")}
    assert len(problems) == 2  # the duplicate and the file name that differs from the id


def test_duplicate_plan_code(root: Path) -> None:
    edit(root, "plans.yml", "code: I", "code: H")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "plans.yml", 70, "plans[8].code")
    assert '"H" が 2 回' in problem.message and "61 行目" in problem.message


def test_plan_code_not_a_capital_letter(root: Path) -> None:
    edit(root, "plans.yml", "code: I", "code: i1")
    problem = find(problems_of(root), "plans.yml", 70, "plans[8].code")
    assert "英大文字 1 文字" in problem.message


def test_duplicate_category_id(root: Path) -> None:
    edit(root, "faq/categories.yml", "id: support-contract", "id: installation")
    problem = find(problems_of(root), "faq/categories.yml", 5, "categories[1].id")
    assert '"installation" が 2 回' in problem.message


def test_duplicate_case_id(root: Path) -> None:
    edit(root, "recommendations.yml", "id: no-in-house-expert", "id: skilled-it-team")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "recommendations.yml", 6, "cases[1].id")
    assert "2 回" in problem.message


def test_duplicate_product_id(root: Path) -> None:
    edit(root, "site.yml", "{id: asp, name: CMSKIT-ASP}", "{id: cloud, name: CMSKIT-ASP}")
    problem = find(problems_of(root), "site.yml", 13, "products[1].id")
    assert '"cloud" が 2 回' in problem.message


def test_reserved_category_id(root: Path) -> None:
    edit(root, "faq/categories.yml", "id: support-contract", "id: category")
    problem = find(problems_of(root), "faq/categories.yml", 5, "categories[1].id")
    assert "予約" in problem.message


def test_reserved_question_id(root: Path) -> None:
    path = root / "faq/installation/category.yml"
    path.write_text(
        (root / Q2).read_text(encoding="utf-8").replace("id: install-steps", "id: category")
    )
    problem = find(problems_of(root), "faq/installation/category.yml", 1, "id")
    assert "予約" in problem.message


# -- references --------------------------------------------------------------------------


def test_recommendation_of_unknown_plan(root: Path) -> None:
    edit(root, "recommendations.yml", "plans: [A, G]", "plans: [A, Z]")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "recommendations.yml", 4, "cases[0].plans[1]")
    assert '"Z" は plans.yml にありません' in problem.message
    assert "A, B, C" in problem.hint


def test_unknown_product_id(root: Path) -> None:
    edit(
        root,
        Q1,
        "products: [onprem-perpetual, onprem-annual]",
        "products: [onprem-perpetual, on-prem-annual]",
    )
    problem = find(problems_of(root), Q1, 6, "products[1]")
    assert "site.yml の products にありません" in problem.message
    assert '"onprem-annual"' in problem.hint


def test_unknown_related_question(root: Path) -> None:
    edit(root, Q1, "related: [install-steps]", "related: [install-step]")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, Q1, 8, "related[0]")
    assert '"install-step" はどのカテゴリーにもありません' in problem.message
    assert '"install-steps" の書き間違い' in problem.hint


def test_related_to_itself(root: Path) -> None:
    edit(root, Q1, "related: [install-steps]", "related: [install-steps, install-requirements]")
    problem = find(problems_of(root), Q1, 8, "related[1]")
    assert "自分自身" in problem.message


def test_published_question_links_to_a_draft(root: Path) -> None:
    edit(root, Q_ADDON, "related: [ticket-expiry]", "related: [spot-ticket-version-up]")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, Q_ADDON, 10, "related[0]")
    assert "下書き" in problem.message


def test_draft_may_link_to_a_draft_and_is_still_validated(root: Path) -> None:
    draft = "faq/support-contract/spot-ticket-version-up.yml"
    edit(root, draft, "updated: 2026-10-02", "updated: 2026-13-02")
    problem = find(problems_of(root), draft, 7, "updated")
    assert "日付" in problem.message


# -- folders -----------------------------------------------------------------------------


def test_category_folder_not_listed(root: Path) -> None:
    (root / "faq/extra").mkdir()
    text = (root / Q2).read_text(encoding="utf-8").replace("id: install-steps", "id: extra-one")
    (root / "faq/extra/extra-one.yml").write_text(text, encoding="utf-8")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "faq/categories.yml", 1, "categories")
    assert "faq/extra/" in problem.message


def test_listed_category_without_questions(root: Path) -> None:
    edit(
        root,
        "faq/categories.yml",
        "    description: 有償サポートの契約とチケットについての質問です。\n",
        "    description: 有償サポートの契約とチケットについての質問です。\n"
        "  - id: empty-one\n    title: 空\n    description: 質問がありません。\n",
    )
    problem = find(problems_of(root), "faq/categories.yml", 8, "categories[2].id")
    assert "faq/empty-one/ がありません" in problem.message


def test_category_with_only_drafts(root: Path) -> None:
    (root / "faq/support-contract/ticket-expiry.yml").unlink()
    (root / Q_ADDON).unlink()
    problem = find(problems_of(root), "faq/categories.yml", 5, "categories[1].id")
    assert "下書き" in problem.message


def test_yaml_extension_is_reported(root: Path) -> None:
    (root / NEWS).rename(root / "news/2026-09-maintenance.yaml")
    problem = find(problems_of(root), "news/2026-09-maintenance.yaml", 0, "")
    assert ".yml" in problem.message


def test_unknown_top_level_file(root: Path) -> None:
    (root / "plan.yml").write_text("tax: {}\n", encoding="utf-8")
    problem = find(problems_of(root), "plan.yml", 0, "")
    assert "不明なファイル" in problem.message
    assert "plans.yml" in problem.hint


def test_missing_required_file(root: Path) -> None:
    (root / "support.yml").unlink()
    problem = find(problems_of(root), "support.yml", 0, "")
    assert "ありません" in problem.message


# -- the price table contradicting itself ------------------------------------------------


def test_addon_must_be_for_contract_holders(root: Path) -> None:
    edit(root, "plans.yml", "available_to: contract_holders", "available_to: anyone")
    problem = find(problems_of(root), "plans.yml", 68, "plans[7].available_to")
    assert "contract_holders のはず" in problem.message


def test_spot_ticket_has_no_version_ups(root: Path) -> None:
    edit(
        root,
        "plans.yml",
        "validity_months: 1\n    minor_version_up: false",
        "validity_months: 1\n    minor_version_up: true",
    )
    problem = find(problems_of(root), "plans.yml", 74, "plans[8].minor_version_up")
    assert "false のはず" in problem.message


def test_spot_ticket_only_without_contract(root: Path) -> None:
    edit(root, "plans.yml", "available_to: non_contract_holders", "available_to: contract_holders")
    problem = find(problems_of(root), "plans.yml", 77, "plans[8].available_to")
    assert "non_contract_holders のはず" in problem.message


def test_contract_is_for_anyone(root: Path) -> None:
    edit(
        root,
        "plans.yml",
        "price_excl_tax: 80000\n    available_to: anyone",
        "price_excl_tax: 80000\n    available_to: contract_holders",
    )
    problem = find(problems_of(root), "plans.yml", 12, "plans[0].available_to")
    assert "anyone のはず" in problem.message


def test_validity_must_match_years_in_name(root: Path) -> None:
    edit(root, "plans.yml", "validity_months: 36", "validity_months: 24")
    problem = find(problems_of(root), "plans.yml", 40, "plans[4].validity_months")
    assert "「3年間」なので validity_months は 36" in problem.message


def test_tickets_must_match_name(root: Path) -> None:
    edit(root, "plans.yml", "tickets: 18", "tickets: 17")
    problems = problems_of(root)
    assert len(problems) == 1
    problem = find(problems, "plans.yml", 18, "plans[1].tickets")
    assert "tickets は 18 のはず" in problem.message


def test_full_width_name_is_checked_too(root: Path) -> None:
    edit(
        root,
        "plans.yml",
        "name: 1年間サポート(8チケット付)",
        "name: １年間サポート（９チケット付）",
    )
    problem = find(problems_of(root), "plans.yml", 10, "plans[0].tickets")
    assert "tickets は 9 のはず" in problem.message


def test_at_least_one_contract_plan(root: Path) -> None:
    text = (root / "plans.yml").read_text(encoding="utf-8")
    head, rest = text.split("plans:\n", 1)
    only_tickets = "  - code: H" + rest.split("  - code: H", 1)[1]
    (root / "plans.yml").write_text(head + "plans:\n" + only_tickets, encoding="utf-8")
    problem = find(problems_of(root), "plans.yml", 5, "plans")
    assert "contract のプランが 1 つもありません" in problem.message


def test_negative_price(root: Path) -> None:
    edit(root, "plans.yml", "price_excl_tax: 8000\n", "price_excl_tax: -8000\n")
    problem = find(problems_of(root), "plans.yml", 67, "plans[7].price_excl_tax")
    assert "1 以上" in problem.message


# -- all at once -------------------------------------------------------------------------


def test_all_problems_of_a_run_are_reported_together(root: Path) -> None:
    edit(root, "plans.yml", "price_excl_tax: 80000", 'price_excl_tax: "80,000"')
    edit(root, "recommendations.yml", "plans: [A, G]", "plans: [A, Z]")
    edit(root, Q1, "updated: 2026-10-01", "updated: 2026-02-30")
    edit(root, NEWS, "title:", "titel:")
    edit(root, "site.yml", "forum_url: https://forum.example.jp/cmskit/", "forum_url: nowhere")
    (root / "news/broken.yml").write_text("id: broken\n  title: [\n", encoding="utf-8")
    problems = problems_of(root)
    where = {(p.file, p.line, p.field) for p in problems}
    assert where == {
        ("plans.yml", 11, "plans[0].price_excl_tax"),
        ("recommendations.yml", 4, "cases[0].plans[1]"),
        (Q1, 9, "updated"),
        (NEWS, 3, "titel"),
        (NEWS, 1, "title"),
        ("site.yml", 4, "forum_url"),
        ("news/broken.yml", 2, ""),
    }
    assert [p.file for p in problems] == sorted(p.file for p in problems)
