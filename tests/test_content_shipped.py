"""The shipped content/ loads without a single problem and holds what the issue asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import Content
from cmskb.content.problems import ContentError
from content_helpers import SEED_PRICES


@pytest.fixture(scope="module")
def shipped(content_root: Path) -> Content:
    try:
        return load_content(content_root)
    except ContentError as exc:
        pytest.fail(f"shipped content has problems:\n{exc.report('content')}", pytrace=False)


def test_shipped_content_loads_without_problems(shipped: Content) -> None:
    assert shipped.published_questions


def test_shipped_plans_are_priced_as_in_the_seed(shipped: Content) -> None:
    table = shipped.plans
    assert {
        p.code: (p.name, p.validity_months, p.minor_version_up, p.tickets, p.price_excl_tax)
        for p in table.plans
    } == SEED_PRICES


def test_shipped_recommendations_are_the_seed_cases(shipped: Content) -> None:
    assert sorted(c.plans for c in shipped.recommendations) == sorted(
        [("A", "G"), ("B", "C"), ("C",), ("C",), ("D", "E", "F"), ("G",), ("C", "F")]
    )


def test_shipped_content_has_enough_questions_and_news(shipped: Content) -> None:
    assert len(shipped.published_questions) >= 40
    assert len({q.category for q in shipped.published_questions}) >= 6
    assert len(shipped.news) >= 5


def test_shipped_prices_are_written_as_placeholders(content_root: Path) -> None:
    """Figures in the editors' text come from plans.yml, so a price change reaches them."""
    typed = {
        path.relative_to(content_root).as_posix(): figures
        for path in sorted(content_root.rglob("*.yml"))
        if (figures := re.findall(r"\d[\d,]*円(?!未満)", path.read_text(encoding="utf-8")))
    }
    assert typed == {}


def test_shipped_price_question_points_to_the_table(shipped: Content) -> None:
    answer = next(q.answer for q in shipped.questions if q.id == "plan-prices")
    assert "](/plans/#price-table)" in answer
    assert "|" not in answer  # no copy of the price table


def test_only_products_of_the_rule_get_version_ups_without_a_contract(
    shipped: Content,
) -> None:
    """Texts that promise version-ups without a contract name only the products of
    plans.yml rules.version_ups_without_contract (クラウド)."""
    listed = shipped.plans.rules.version_ups_without_contract
    free = {p.name for p in shipped.site.products if p.id in listed}
    others = {p.name for p in shipped.site.products} - free
    texts = [q.answer for q in shipped.questions] + [n.body for n in shipped.news]
    for text in texts:
        for line in text.splitlines():
            if re.search(r"契約(の有無|がなくても|なしで)", line) and "バージョンアップ" in line:
                assert not [name for name in others if name in line], line


def test_the_which_plan_question_covers_every_case_of_the_guide(shipped: Content) -> None:
    answer = next(q.answer for q in shipped.questions if q.id == "which-plan")
    for case in shipped.recommendations:
        line = next(line for line in answer.splitlines() if f"/plans/guide/#{case.id})" in line)
        recommended = line.rsplit("): ", 1)[1]
        assert re.findall(r"[A-Z]", recommended) == list(case.plans), line


def test_every_news_item_rests_on_a_source(shipped: Content) -> None:
    for item in shipped.news:
        assert item.basis is not None, item.id
        assert item.basis.kind.value in {"seed", "site", "generic"}
        if item.basis.kind.value == "seed":
            assert item.basis.quote
