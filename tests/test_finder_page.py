"""The finder on the plans page: its markup, its script and the precomputed JSON."""

from __future__ import annotations

import dataclasses
import json
import random
from html.parser import HTMLParser

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import AddonRule
from cmskb.finder.explain import assumptions, describe_segment
from cmskb.finder.page import (
    DATA_PATH,
    PRECOMPUTED_CASES,
    SCRIPT_PATH,
    STYLE_PATH,
    finder_assets,
    finder_data,
    finder_markup,
)
from cmskb.finder.search import Finder, Need


@pytest.fixture(scope="module")
def content(content_root):
    return load_content(content_root)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"input", "br", "link"}:
            self.stack.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_markup_is_an_accessible_japanese_form(content) -> None:
    markup = finder_markup(content)
    assert "\n\n" not in markup, "a blank line would end the raw HTML block in Markdown"
    parser = _Tags()
    parser.feed(markup)
    assert parser.stack == []
    tags = parser.tags
    ids = [attrs["id"] for _, attrs in tags if "id" in attrs]
    assert len(ids) == len(set(ids))
    assert tags[0] == ("div", tags[0][1]) and tags[0][1]["id"] == "plan-finder"
    assert tags[0][1]["data-src"] == "../" + DATA_PATH
    labelled = {attrs["for"] for tag, attrs in tags if tag == "label"}
    controls = [attrs["id"] for tag, attrs in tags if tag in {"input", "select"}]
    assert set(controls) == {"pf-product", "pf-vu-yes", "pf-vu-no", "pf-contract-yes",
                             "pf-contract-no", "pf-years", "pf-first-year", "pf-later-years"}
    assert set(controls) <= labelled
    assert [t for t, _ in tags].count("fieldset") == [t for t, _ in tags].count("legend") == 3
    status = next(attrs for _, attrs in tags if attrs.get("id") == "pf-status")
    assert status["aria-live"] == "polite" and status["role"] == "status"
    products = [attrs["value"] for tag, attrs in tags if tag == "option"][: len(
        content.site.products)]
    assert products == [p.id for p in content.site.products]
    counts = [attrs for tag, attrs in tags if attrs.get("id") in {"pf-first-year",
                                                                  "pf-later-years"}]
    assert all(a["inputmode"] == "numeric"
               and a["aria-describedby"] == "pf-cases-hint pf-ticket-rule" for a in counts)
    assert f"0〜{PRECOMPUTED_CASES}件" in markup
    # the rules the answers rest on, one sentence each, and the tickets-per-case rule
    rules = markup.split('id="pf-rules"', 1)[1].split("</ul>", 1)[0]
    assert rules.count("<li>") == len(assumptions(content.plans, content.site.products)) >= 4
    for sentence in assumptions(content.plans, content.site.products):
        assert f"<li>{sentence}</li>" in rules
    ticket_rule = markup.split('id="pf-ticket-rule">', 1)[1].split("</p>", 1)[0]
    assert ticket_rule.startswith(content.plans.rules.ticket_rule)
    assert "1案件につき1チケットとして計算します" in ticket_rule
    script = next(attrs for tag, attrs in tags if tag == "script")
    assert script["src"] == "../" + SCRIPT_PATH and "defer" in script
    style = next(attrs for tag, attrs in tags if tag == "link")
    assert (style["rel"], style["href"]) == ("stylesheet", "../" + STYLE_PATH)
    links = {attrs["href"] for tag, attrs in tags if tag == "a"}
    assert links == {"#price-table", "guide/"}
    assert "<noscript>" in markup and "料金表" in "".join(parser.text)


def test_script_renders_with_text_only(content) -> None:
    script = finder_assets(content)[SCRIPT_PATH]
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write"):
        assert forbidden not in script
    assert "textContent" in script
    assert len(script.encode()) < 8_000  # "small": lookup and render only


def lookup(data: dict, product: str, version_ups: bool, contract: bool, years: int,
           first: int, later: int) -> tuple[list[str], str, list[list]]:
    """What plan-finder.js shows: (notes, reason, options as [totals..., segment rows])."""
    mode, notes, reason = data["products"][product]["answers"][
        (2 if version_ups else 0) + (0 if contract else 1)]
    if mode < 0:
        return notes, reason, []
    shapes = data["lists"][data["q"][mode][years - 1][first][later if years > 1 else 0]]
    options = []
    for shape_id in shapes:
        rows = []
        for code, start, span, held in data["shapes"][shape_id]:
            cases = first + (span - 1) * later if start == 1 else span * later
            rows.append(data["segs"][f"{code}{start}-{span}:{cases}{held}"])
        totals = [sum(row[i] for row in rows) for i in range(4, 10)]
        options.append([*totals, rows])
    return notes, reason, options


def expected(finder: Finder, need: Need) -> tuple[list[str], str, list[list]]:
    answer = finder.find(need)
    options = []
    for o in answer.options:
        rows = []
        for s in o.segments:
            text = describe_segment(s)
            rows.append([text.period, text.purchase, text.price, text.why, s.price_incl,
                         s.price_excl, s.addons, s.spots, s.unused,
                         len(s.bought) + s.addons + s.spots])
        options.append([o.total_incl, o.total_excl, o.addon_count, o.spot_count, o.unused,
                        o.purchase_count, rows])
    return list(answer.notes), answer.reason, options


def _every_need(content, max_cases: int):
    for product in content.site.products:
        for version_ups in (False, True):
            for contract in (True, False):
                for years in range(1, 6):
                    for first in range(max_cases + 1):
                        for later in range(max_cases + 1) if years > 1 else [0]:
                            yield Need(product, version_ups, years, first, later, contract)


def _with_rules(content, **rules):
    plans = dataclasses.replace(content.plans,
                                rules=dataclasses.replace(content.plans.rules, **rules))
    return dataclasses.replace(content, plans=plans)


@pytest.mark.parametrize(
    "rules",
    [{}, {"contracts_at_once": 2}, {"contracts_at_once": 3,
                                    "addon_tickets_with": AddonRule.ONE_YEAR_CONTRACTS},
     {"tickets_per_case": 3}],
    ids=["shipped", "two-at-once", "three-at-once-one-year-add-ons", "three-tickets-a-case"],
)
def test_small_precomputation_answers_every_need_like_the_search(content, rules) -> None:
    content = _with_rules(content, **rules)
    data = json.loads(json.dumps(finder_data(content, max_cases=5), ensure_ascii=False))
    finder = Finder(content.plans)
    count = 0
    for need in _every_need(content, 5):
        got = lookup(data, need.product.id, need.version_ups, need.contract_allowed,
                     need.years, need.first_year, need.later_years)
        assert got == expected(finder, need), need
        count += 1
    assert count == 5 * 2 * 2 * (6 + 4 * 36)


def test_shipped_json_answers_like_the_search(content) -> None:
    assets = finder_assets(content)
    assert set(assets) == {DATA_PATH, SCRIPT_PATH, STYLE_PATH}
    data = json.loads(assets[DATA_PATH])
    assert (data["maxCases"], data["maxYears"]) == (PRECOMPUTED_CASES, 5)
    finder = Finder(content.plans)
    rng = random.Random(6)
    products = content.site.products
    corners = [Need(products[3], True, 5, 60, 60), Need(products[0], True, 1, 60, 0),
               Need(products[1], False, 5, 0, 60, False)]
    sample = corners + [
        Need(rng.choice(products), rng.random() < 0.5, rng.randint(1, 5),
             rng.randint(0, 60), rng.randint(0, 60), rng.random() < 0.8)
        for _ in range(400)
    ]
    for need in sample:
        later = need.later_years if need.years > 1 else 0
        need = Need(need.product, need.version_ups, need.years, need.first_year, later,
                    need.contract_allowed)
        got = lookup(data, need.product.id, need.version_ups, need.contract_allowed,
                     need.years, need.first_year, need.later_years)
        assert got == expected(finder, need), need


def test_impossible_need_is_in_the_data_with_its_reason(content) -> None:
    data = finder_data(content, max_cases=1)
    onprem = data["products"]["onprem-perpetual"]["answers"]
    cloud = data["products"]["cloud"]["answers"]
    assert onprem[3][0] == -1 and "マイナーバージョンアップ" in onprem[3][2]
    assert cloud[3][0] >= 0 and cloud[3][2] == ""


def test_a_product_added_to_the_rule_gets_version_ups_without_a_contract(content) -> None:
    data = finder_data(_with_rules(content, version_ups_without_contract=("cloud", "asp")),
                       max_cases=1)
    assert data["products"]["asp"]["answers"][3][0] >= 0
