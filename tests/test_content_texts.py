"""Checks of the editors' Markdown: links and anchors, price placeholders, typed yen figures,
reserved ids, the finder's table rules and errors that must not cascade.

Each test changes a copy of tests/fixtures/content-min and reads what load_content reports.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import markdown
import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import newest_first as news_sorted
from cmskb.content.render import UnsafePathError, render_pages, write_pages
from cmskb.content.textcheck import site_map_of
from content_helpers import copy_fixture, edit, find, problems_of
from pymdownx.slugs import slugify

Q1 = "faq/installation/install-requirements.yml"  # answer text starts on line 4
Q2 = "faq/installation/install-steps.yml"
Q_ADDON = "faq/support-contract/addon-ticket.yml"
Q_EXPIRY = "faq/support-contract/ticket-expiry.yml"
Q_DRAFT = "faq/support-contract/spot-ticket-version-up.yml"
NEWS = "news/2026-09-maintenance.yml"
Q1_SECOND = "詳しい条件は製品マニュアルをご覧ください。"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def answer_line(root: Path, text: str) -> None:
    """Put `text` as the second line of Q1's answer (file line 5)."""
    edit(root, Q1, Q1_SECOND, text)


# -- links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "message", "hint"),
    [
        ("/faq/nope/", "「/faq/nope/」はサイトにありません", "/faq/<質問ID>/"),
        ("/faq/install-step/", "はサイトにありません", "/faq/install-steps/"),
        ("/faq/install-steps/#nope", "#nope はページ /faq/install-steps/ にありません", "#about"),
        ("/plans/#plan-z", "#plan-z はページ /plans/ にありません", "書き間違い"),
        ("/plans", "最後に / がありません", "/plans/"),
        ("install-steps/", "相対パス", "/ から始まるパス"),
        ("#nope", "#nope はページ /faq/install-requirements/ にありません", ""),
        ("/faq/spot-ticket-version-up/", "下書き", "公開する"),
    ],
)
def test_broken_links_are_reported_with_line_and_field(
    root: Path, link: str, message: str, hint: str
) -> None:
    answer_line(root, f"詳しくは[こちら]({link})をご覧ください。")
    problem = find(problems_of(root), Q1, 5, "answer")
    assert message in problem.message
    assert hint in problem.hint


def test_links_the_site_will_have_pass(root: Path) -> None:
    links = [
        "/", "/#forms", "/faq/", "/faq/install-steps/", "/faq/install-steps/#about",
        "/faq/install-requirements/#related", "/faq/category/installation/#installation",
        "/news/", "/news/2026-09-maintenance/", "/news/#2026-10-release-7-2",
        "/feed.xml", "/plans/#price-table", "/plans/#plan-h", "/plans/#notes",
        "/plans/#finder", "/plans/guide/#busy-first-years", "/plans/tickets/#solutions",
        "/support/#conditions", "/editors/#anything", "/forms/feedback/",
        "https://example.com/x/", "mailto:support@example.com", "#about",
    ]
    answer_line(root, "、".join(f"[{i}]({link})" for i, link in enumerate(links)))
    load_content(root)


def test_heading_anchors_written_by_editors_can_be_linked(root: Path) -> None:
    edit(root, Q2, "章に手順があります。\n", (
        "章に手順があります。\n\n  ## 準備 {#prepare}\n\n  ## Install Steps\n\n"
        "  ## about\n\n  準備です。\n"
    ))
    # "Install Steps" comes after the page's own id install-steps: it gets a suffix
    answer_line(root, "[準備](/faq/install-steps/#prepare)、"
                      "[手順](/faq/install-steps/#install-steps_1)、"
                      "[見出し](/faq/install-steps/#about_1)")
    load_content(root)
    edit(root, Q1, "[準備](/faq/install-steps/#prepare)",
         "[x](/faq/install-steps/#install-steps_2)")
    problem = find(problems_of(root), Q1, 5, "answer")
    assert "#install-steps_2" in problem.message


def test_explicit_heading_id_may_not_repeat_a_page_id(root: Path) -> None:
    edit(root, Q2, "章に手順があります。\n", "章に手順があります。\n\n  ## 概要 {#about}\n")
    problem = find(problems_of(root), Q2, 6, "answer")
    assert "「about」はこのページで既に使われています" in problem.message


def test_links_in_news_and_plans_yml_are_checked(root: Path) -> None:
    edit(root, NEWS, "更新を行います。", "更新を行います([詳細](/support/#nope))。")
    edit(root, "plans.yml", "  - 表の料金は税抜きの金額です。",
         "  - 表の料金は[税抜き](/faq/zei/)です。")
    problems = problems_of(root)
    assert "#nope" in find(problems, NEWS, 5, "body").message
    assert "/faq/zei/" in find(problems, "plans.yml", 80, "notes[0]").message


def test_a_draft_may_link_to_a_draft(root: Path) -> None:
    edit(root, Q_DRAFT, "ご検討ください。",
         "[ご検討](/faq/spot-ticket-version-up/#about)ください。")
    load_content(root)


# -- price placeholders and typed figures -------------------------------------------------


def test_placeholders_become_figures_of_the_price_table(root: Path) -> None:
    answer_line(
        root,
        "{{price_incl:A}}/{{price_excl:A}}/{{per_ticket_incl:A}}/{{per_ticket_excl:B}}"
        "/{{ per_ticket_incl:B }}/{{tax_rate}}",
    )
    edit(root, "plans.yml", "チケットを買い足すときに使います。", "1枚{{price_incl:H}}です。")
    content = load_content(root)
    answer = next(q for q in content.questions if q.id == "install-requirements").answer
    assert "88,000円/80,000円/11,000円/約8,889円/約9,778円/10%" in answer
    assert content.plans.plan("H").description.endswith("1枚8,800円です。")


@pytest.mark.parametrize(
    ("placeholder", "message", "hint"),
    [
        ("{{price_inc:A}}", "不明なプレースホルダー「price_inc」", "price_incl"),
        ("{{price_incl:Z}}", '"Z" は plans.yml にありません', "A, B, C"),
        ("{{price_incl}}", "サポート種別が必要です", "{{price_incl:A}}"),
        ("{{tax_rate:A}}", "サポート種別を付けません", "{{tax_rate}}"),
        ("{{price incl A}}", "書き方が違います", "{{price_excl:A}}"),
    ],
)
def test_bad_placeholders_are_reported(
    root: Path, placeholder: str, message: str, hint: str
) -> None:
    answer_line(root, f"料金は{placeholder}です。")
    problem = find(problems_of(root), Q1, 5, "answer")
    assert message in problem.message
    assert hint in problem.hint


def test_typed_figure_that_no_plan_gives_is_reported(root: Path) -> None:
    answer_line(root, "料金は99,000円です。")
    problem = find(problems_of(root), Q1, 5, "answer")
    assert "99,000円" in problem.message
    assert "{{price_incl:A}}" in problem.hint


def test_a_typed_figure_is_a_problem_even_when_the_table_gives_it(root: Path) -> None:
    # prices come from plans.yml: a typed one goes stale when the price changes
    answer_line(root, "A は税込88,000円(1円未満は切り捨て)です。")
    problem = find(problems_of(root), Q1, 5, "answer")
    assert "88,000円" in problem.message and "直接書かれています" in problem.message
    assert "{{price_incl:A}}" in problem.hint
    answer_line_2 = "A は税込{{price_incl:A}}(1円未満は切り捨て)です。"
    edit(root, Q1, "A は税込88,000円(1円未満は切り捨て)です。", answer_line_2)
    load_content(root)


def test_figures_in_news_and_in_10k_units_are_checked(root: Path) -> None:
    edit(root, NEWS, "更新を行います。", "更新を行います。費用は3万円です。")
    assert "3万円" in find(problems_of(root), NEWS, 5, "body").message


# -- the finder's table rules, reported as content problems ------------------------------


def test_contract_of_months_not_in_years_is_a_plans_problem(root: Path) -> None:
    edit(root, "plans.yml",
         "name: 1年間サポート(8チケット付)\n    kind: contract\n    validity_months: 12",
         "name: 長期サポート(8チケット付)\n    kind: contract\n    validity_months: 18")
    problem = find(problems_of(root), "plans.yml", 8, "plans[0].validity_months")
    assert "12の倍数" in problem.message


def test_addon_sold_in_packs_and_two_spot_plans_are_plans_problems(root: Path) -> None:
    edit(root, "plans.yml", "kind: addon\n    validity_months: 12\n    minor_version_up: false\n"
         "    tickets: 1", "kind: addon\n    validity_months: 12\n    minor_version_up: false\n"
         "    tickets: 5")
    edit(root, "plans.yml", "  - code: H\n    name: 追加チケット1\n    kind: addon",
         "  - code: H\n    name: 追加チケット1\n    kind: spot")
    problems = problems_of(root)
    tickets = find(problems, "plans.yml", 66, "plans[7].tickets")
    assert "1枚単位" in tickets.message
    two = find(problems, "plans.yml", 72, "plans[8].kind")
    assert "kind: spot のプランが複数あります(H, I)" in two.message


# -- errors in one file do not cascade into others ----------------------------------------


def test_unreadable_question_is_not_reported_again_by_its_referrers(root: Path) -> None:
    # install-steps and addon-ticket list ticket-expiry in `related`
    (root / Q_EXPIRY).write_text("id: ticket-expiry\nquestion: [閉じない\n", encoding="utf-8")
    problems = problems_of(root)
    assert [p.file for p in problems] == [Q_EXPIRY]


def test_invalid_id_is_not_reported_again_by_referrers_or_links(root: Path) -> None:
    edit(root, Q_EXPIRY, "id: ticket-expiry", "id: Ticket_Expiry")
    answer_line(root, "[期限](/faq/ticket-expiry/)")
    problems = problems_of(root)
    assert [(p.file, p.field) for p in problems] == [(Q_EXPIRY, "id")]


def test_category_whose_only_question_fails_gets_no_second_problem(root: Path) -> None:
    for rel in (Q1, Q2):
        text = (root / rel).read_text(encoding="utf-8")
        (root / rel).write_text(text.replace("question:", "question: [", 1), encoding="utf-8")
    problems = problems_of(root)
    assert {p.file for p in problems} == {Q1, Q2}


# -- ids that would repeat an id of their page --------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "new", "field"),
    [
        (Q1, "id: install-requirements", "id: about", "id"),
        (Q1, "id: install-requirements", "id: related", "id"),
        (NEWS, "id: 2026-09-maintenance", "id: news", "id"),
        ("recommendations.yml", "id: skilled-it-team", "id: guide", "cases[0].id"),
        ("faq/categories.yml", "id: installation", "id: category", "categories[0].id"),
    ],
)
def test_reserved_ids_per_kind(root: Path, rel: str, old: str, new: str, field: str) -> None:
    edit(root, rel, old, new)
    if rel in (Q1, NEWS):  # keep the file name equal to the id
        target = (root / rel).with_name(new.split(": ")[1] + ".yml")
        (root / rel).rename(target)
        rel = target.relative_to(root).as_posix()
    problems = [p for p in problems_of(root) if p.file == rel and p.field == field]
    assert len(problems) == 1, problems
    assert "予約されている" in problems[0].message


# -- the anchors the checks know are the ids the pages have -------------------------------


def test_site_map_matches_the_ids_of_the_rendered_pages(root: Path) -> None:
    edit(root, Q2, "章に手順があります。\n", (
        "章に手順があります。\n\n  ## 準備 {#prepare}\n\n  ## Install Steps\n\n  ## about\n"
    ))
    edit(root, NEWS, "更新を行います。\n", "更新を行います。\n\n  ### 影響\n")
    content = load_content(root)
    site = site_map_of(content)
    toc = {"slugify": slugify(case="lower")}
    for src_uri, text in render_pages(content, finder_markup="<div>診断</div>").items():
        body = text.split("---\n", 2)[2]
        html = markdown.markdown(
            body, extensions=["attr_list", "md_in_html", "tables", "toc"],
            extension_configs={"toc": toc},
        )
        path = "/" + src_uri.removesuffix("index.md")
        assert set(re.findall(r'\sid="([^"]+)"', html)) == site.pages[path], path
    assert {"prepare", "install-steps_1", "about_1"} <= site.pages["/faq/install-steps/"]


# -- support hours, news order, writing the tree ------------------------------------------


def test_support_hours_live_in_site_yml_only(root: Path) -> None:
    edit(root, "support.yml", "  channels:", "  hours: 平日 9:00〜17:00\n  channels:")
    problem = next(p for p in problems_of(root) if p.field == "paid.hours")
    assert "site.yml の support_hours" in problem.message


def test_news_of_one_day_are_ordered_the_same_everywhere(root: Path) -> None:
    edit(root, NEWS, "date: 2026-09-20", "date: 2026-10-15")
    content = load_content(root)
    assert [n.id for n in content.news] == ["2026-10-release-7-2", "2026-09-maintenance"]
    assert news_sorted(reversed(content.news)) == list(content.news)
    assert all(n.date == dt.date(2026, 10, 15) for n in content.news)


def test_write_pages_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError):
        write_pages({"ok.md": "x", "../escape.md": "y"}, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.md").exists()
    written = write_pages({"a/index.md": "z"}, tmp_path / "out")
    assert written == [tmp_path / "out" / "a" / "index.md"]
