"""The content layer read directly: the fixture tree into the typed model, exactly."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

from cmskb.content.loader import load_content
from cmskb.content.model import (
    AddonRule,
    Audience,
    Basis,
    BasisKind,
    Content,
    FinderRules,
    PlanKind,
    Product,
    Rounding,
    Source,
)
from cmskb.content.problems import ContentError, Problem
from content_helpers import FIXTURE, SEED_PRICES, copy_fixture, edit


def load_fixture() -> Content:
    return load_content(FIXTURE)


def test_fixture_plans_are_the_seed_price_table() -> None:
    table = load_fixture().plans
    assert [p.code for p in table.plans] == list("ABCDEFGHI")
    for plan in table.plans:
        name, months, version_ups, tickets, price = SEED_PRICES[plan.code]
        assert (plan.name, plan.validity_months, plan.minor_version_up) == (
            name,
            months,
            version_ups,
        )
        assert (plan.tickets, plan.price_excl_tax) == (tickets, price)
        assert type(plan.price_excl_tax) is int and type(plan.tickets) is int
        assert type(plan.minor_version_up) is bool
    assert table.plan("H").kind is PlanKind.ADDON
    assert table.plan("H").available_to is Audience.CONTRACT_HOLDERS
    assert table.plan("I").kind is PlanKind.SPOT
    assert table.plan("I").available_to is Audience.NON_CONTRACT_HOLDERS
    assert table.plan("A").kind is PlanKind.CONTRACT and table.plan("A").description == ""
    assert table.plan("I").description.startswith("年間サポート契約のない方")
    assert table.plan("A").source == Source("plans.yml", 5)
    assert len(table.notes) == 3


def test_tax_rate_is_a_decimal_read_from_its_text() -> None:
    tax = load_fixture().plans.tax
    assert tax.rate == Decimal("0.10") and str(tax.rate) == "0.10"
    assert isinstance(tax.rate, Decimal)
    assert tax.rounding is Rounding.FLOOR
    assert load_fixture().plans.price_incl_tax(load_fixture().plans.plan("A")) == 88000


def test_tax_rate_never_goes_through_float(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    edit(root, "plans.yml", "rate: 0.10", "rate: 0.1000000000000000055511151231257827")
    rate = load_content(root).plans.tax.rate
    assert rate == Decimal("0.1000000000000000055511151231257827")
    assert rate != Decimal.from_float(0.1)  # what a float would have given


def test_site_settings_and_products() -> None:
    site = load_fixture().site
    assert site.forum_url == "https://forum.example.jp/cmskit/"
    assert [p.id for p in site.products] == [
        "cloud",
        "asp",
        "webcanvas",
        "onprem-perpetual",
        "onprem-annual",
    ]
    assert site.forms.docs_request == "/forms/docs-request/"
    assert site.source == Source("site.yml", 1)


def test_finder_rules_are_read_from_plans_yml() -> None:
    rules = load_fixture().plans.rules
    assert rules == FinderRules(
        tickets_per_case=1,
        ticket_rule="1件ごとに所定のチケットが必要です。",
        contracts_at_once=1,
        addon_tickets_with=AddonRule.ANY_CONTRACT,
        version_ups_without_contract=("cloud",),
    )
    assert rules.version_ups_need_contract(Product("asp", "CMSKIT-ASP"))
    assert not rules.version_ups_need_contract(Product("cloud", "CMSKITクラウド"))


def test_news_sources_are_read() -> None:
    news = {n.id: n for n in load_fixture().news}
    assert news["2026-09-maintenance"].basis == Basis(BasisKind.SITE)
    assert news["2026-10-release-7-2"].basis == Basis(BasisKind.SEED, "最新の製品情報閲覧")


def test_forms_default_when_omitted(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    edit(
        root,
        "site.yml",
        "forms:\n  base: /forms/\n  feedback: /forms/feedback/\n",
        "forms:\n  feedback: /kb-forms/feedback/\n",
    )
    edit(root, "site.yml", "  docs_request: /forms/docs-request/\n  status: /forms/status/\n", "")
    forms = load_content(root).site.forms
    assert forms.feedback == "/kb-forms/feedback/"
    assert (forms.base, forms.status) == ("/forms/", "/forms/status/")


def test_recommendations_keep_order_and_plan_codes() -> None:
    cases = load_fixture().recommendations
    assert [c.plans for c in cases] == [
        ("A", "G"),
        ("B", "C"),
        ("C",),
        ("C",),
        ("D", "E", "F"),
        ("G",),
        ("C", "F"),
    ]
    assert cases[0].id == "skilled-it-team"
    assert cases[1].source == Source("recommendations.yml", 6)


def test_questions_drafts_and_categories() -> None:
    content = load_fixture()
    assert [c.id for c in content.categories] == ["installation", "support-contract"]
    assert [q.id for q in content.questions] == [
        "install-requirements",
        "install-steps",
        "addon-ticket",
        "spot-ticket-version-up",
        "ticket-expiry",
    ]
    draft = next(q for q in content.questions if q.draft)
    assert draft.id == "spot-ticket-version-up"
    assert draft not in content.published_questions
    assert len(content.published_questions) == 4
    assert [q.id for q in content.questions_in("support-contract")] == [
        "addon-ticket",
        "ticket-expiry",
    ]
    q = content.questions[1]
    assert q.category == "installation"
    assert q.related == ("install-requirements", "ticket-expiry")
    assert q.products == ("onprem-perpetual", "onprem-annual")
    assert q.tags == ()
    assert q.updated == dt.date(2026, 9, 15)
    assert q.answer == "製品マニュアルの「インストール」の章に手順があります。\n"
    assert q.source == Source("faq/installation/install-steps.yml", 1)


def test_news_newest_first() -> None:
    news = load_fixture().news
    assert [n.id for n in news] == ["2026-10-release-7-2", "2026-09-maintenance"]
    assert news[0].date == dt.date(2026, 10, 15)
    assert news[0].category == "製品情報"
    assert news[1].category is None


def test_support_and_ticket_examples() -> None:
    content = load_fixture()
    assert content.support.free.services[0].title == "ニュース"
    assert content.support.paid.channels == ("サポート専用メール", "サポート専用電話")
    assert len(content.ticket_examples.inquiries) == 3
    assert content.ticket_examples.notes[0].startswith("原因が CMSKIT にあっても")


def test_quoted_date_and_yes_boolean_are_accepted(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    edit(root, "news/2026-09-maintenance.yml", "date: 2026-09-20", 'date: "2026-09-21"')
    edit(
        root,
        "faq/support-contract/ticket-expiry.yml",
        "updated: 2026-10-01",
        "updated: 2026-10-01\ndraft: no",
    )
    content = load_content(root)
    assert content.news[1].date == dt.date(2026, 9, 21)
    assert not next(q for q in content.questions if q.id == "ticket-expiry").draft


def test_bom_and_crlf_are_read(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = root / "news/2026-09-maintenance.yml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_content(root).news[1].title == "テスト用サイトのお知らせ"


def test_hidden_files_are_ignored(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "faq/installation/.gitkeep").write_text("")
    (root / "news/.DS_Store").write_bytes(b"\0\1")
    (root / "README.md").write_text("notes for editors\n")
    assert len(load_content(root).news) == 2


def test_missing_root_is_a_content_error(tmp_path: Path) -> None:
    try:
        load_content(tmp_path / "nope")
    except ContentError as exc:
        assert exc.problems[0].message == "コンテンツのフォルダがありません。"
    else:
        raise AssertionError("no ContentError")


def test_problem_format_is_compiler_style() -> None:
    problem = Problem(
        "plans.yml", 11, "plans[0].price_excl_tax", "整数が必要です。", "数字だけを書いてください。"
    )
    assert problem.format("content") == (
        "content/plans.yml:11: plans[0].price_excl_tax: 整数が必要です。\n"
        "    ヒント: 数字だけを書いてください。"
    )
    assert Problem("news", 0, "", "m").format() == "news: m"


def test_content_layer_does_not_import_mkdocs() -> None:
    import subprocess

    code = (
        "import sys; from pathlib import Path; from cmskb.content.loader import load_content; "
        f"load_content(Path({str(FIXTURE)!r})); "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('mkdocs', 'material', 'jieba')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
