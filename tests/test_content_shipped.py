"""The shipped content/ loads without a single problem and holds what the issue asks for."""

from __future__ import annotations

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
