"""The plan finder's exact search: hand-checked cases, the seed's guide, and properties.

Prices below are tax-excluded yen of the seed's table (A 80,000/8 tickets, B 160,000/18,
C 240,000/30, D 2 years 300,000/40, E 3 years 420,000/60, F 5 years 520,000/80, G 5 years
280,000/8, H add-on 8,000, I spot 12,000; tax 10 %).
"""

from __future__ import annotations

import pytest
from cmskb.content.loader import load_content
from cmskb.content.model import PlanKind, Product, Rounding
from cmskb.finder.search import (
    Finder,
    FinderInputError,
    FinderTableError,
    Need,
    find_options,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_finder_oracle import (
    ASP,
    CLOUD,
    ONPREM,
    check_option,
    enumerate_schedules,
    make_table,
    seed_table,
)

TABLE = seed_table()


def answer(*args, **kwargs):
    result = find_options(TABLE, Need(*args, **kwargs))
    for option in result.options:
        check_option(TABLE, result.need, option)
    return result


def summary(result) -> list[tuple[tuple[str, ...], int, int]]:
    """(contracts in order, add-on tickets, total excl.) of each option."""
    return [(o.codes, o.addon_count, o.total_excl) for o in result.options]


# --- hand-checked cases --------------------------------------------------------------


def test_version_ups_only_for_one_year_is_plan_a() -> None:
    result = answer(ONPREM, True, 1, 0, 0)
    best = result.options[0]
    assert best.codes == ("A",)
    assert (best.total_incl, best.total_excl, best.unused) == (88_000, 80_000, 8)
    assert "サポート契約が必要" in result.notes[0]


def test_nothing_needed_costs_nothing() -> None:
    # no version-ups, no cases: the free support suffices; no pointless contract is offered
    result = answer(ASP, False, 3, 0, 0)
    assert summary(result) == [(("-", "-", "-"), 0, 0)]
    assert all(s.extra_count == 0 for s in result.options[0].segments)


@pytest.mark.parametrize(
    ("cases", "best", "total"),
    [(6, ("-",), 72_000), (7, ("A",), 80_000)],  # 6 spots 72,000 < A 80,000 < 7 spots 84,000
)
def test_spot_tickets_until_a_contract_is_cheaper(cases: int, best, total: int) -> None:
    result = answer(ASP, False, 1, cases, 0)
    assert (result.options[0].codes, result.options[0].total_excl) == (best, total)


def test_cli_example_ties_are_listed_in_table_order() -> None:
    # 20 + 5 + 5 cases, version-ups: A+12H, A, A = 176,000 + 80,000 + 80,000 = 336,000;
    # B+2H, A, A = 176,000 + 160,000 = 336,000 too; D (25 of 40 tickets) + A = 380,000.
    result = answer(ONPREM, True, 3, 20, 5)
    assert summary(result) == [
        (("A", "A", "A"), 12, 336_000),
        (("B", "A", "A"), 2, 336_000),
        (("D", "A"), 0, 380_000),
    ]
    assert result.options[0].total_incl == 369_600


def test_multi_year_tickets_are_shared_between_years() -> None:
    # D's 40 tickets cover 35 cases in year 1 and 5 in year 2 (C+5H, A would be 360,000)
    result = answer(ONPREM, True, 2, 35, 5)
    best = result.options[0]
    assert (best.codes, best.total_excl, best.unused, best.addon_count) == (("D",), 300_000, 0, 0)


def test_five_year_version_ups_only_is_g_and_four_years_too() -> None:
    assert summary(answer(ONPREM, True, 5, 0, 0))[0] == (("G",), 0, 280_000)
    # 4 years: G (280,000, one year past the need) beats A x 4 (320,000)
    four = answer(ONPREM, True, 4, 0, 0).options[0]
    assert four.codes == ("G",) and four.segments[0].extra_years == 1


def test_a_longer_plan_may_be_cheapest_past_the_need() -> None:
    # 80 cases in 3 years: F (520,000, 80 tickets, 2 years past the need) < E + 20H (580,000)
    best = answer(ONPREM, True, 3, 30, 25).options[0]
    assert best.codes == ("F",) and best.segments[0].extra_years == 2


def test_heavy_use_for_five_years() -> None:
    # 300 cases: every ticket is worth 8,000 (the H price); a fully used contract saves
    # 8,000 x tickets - price: C 0, D 20,000, E 60,000, F 120,000. Best: E for years 1-3
    # (60k) then F for years 4-5 (120 cases, all 80 tickets used: 120k): 2,400,000 - 180,000.
    best = answer(ONPREM, True, 5, 60, 60).options[0]
    assert (best.codes, best.total_excl, best.addon_count) == (("E", "F"), 2_220_000, 160)


def test_cloud_gets_version_ups_without_a_contract() -> None:
    result = answer(CLOUD, True, 2, 3, 0)
    assert summary(result)[0] == (("-", "-"), 0, 36_000)
    assert result.options[0].spot_count == 3
    assert "CMSKITクラウド" in result.notes[0]


def test_version_ups_without_a_contract_is_impossible_and_said_plainly() -> None:
    result = answer(ASP, True, 2, 3, 1, contract_allowed=False)
    assert result.options == ()
    assert "マイナーバージョンアップ" in result.reason and "契約" in result.reason


def test_no_contract_wanted_gives_spot_tickets_only() -> None:
    result = answer(ASP, False, 2, 3, 2, contract_allowed=False)
    assert summary(result) == [(("-", "-"), 0, 60_000)]
    assert result.options[0].spot_count == 5


def test_tax_is_applied_per_line_with_the_table_rounding() -> None:
    # 1,001 yen x 1.08 = 1,081.08: floor 1,081 per line, 3 lines 3,243 (not floor(3,243.24))
    table = make_table([("A", PlanKind.CONTRACT, 12, 1, 5_000),
                        ("I", PlanKind.SPOT, 1, 1, 1_001)], rate="0.08")
    best = find_options(table, Need(ASP, False, 1, 3, 0)).options[0]
    assert (best.codes, best.total_excl, best.total_incl) == (("-",), 3_003, 3_243)
    ceil_table = make_table([("I", PlanKind.SPOT, 1, 1, 1_001)], rate="0.08",
                            rounding=Rounding.CEIL)
    assert find_options(ceil_table, Need(ASP, False, 1, 3, 0)).options[0].total_incl == 3_246


def test_missing_plans_mean_no_option_with_a_reason() -> None:
    no_addon = make_table([("A", PlanKind.CONTRACT, 12, 8, 80_000)])
    result = find_options(no_addon, Need(ONPREM, True, 1, 9, 0))
    assert result.options == () and "組み合わせがありません" in result.reason


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"years": 0}, "1〜5年"),
        ({"years": 6}, "1〜5年"),
        ({"first_year": -1}, "0〜999件"),
        ({"later_years": 1000}, "0〜999件"),
        ({"first_year": 2.5}, "整数"),
    ],
)
def test_bad_needs_get_a_clear_error(kwargs, message: str) -> None:
    values = {"product": ONPREM, "version_ups": True, "years": 2, "first_year": 1,
              "later_years": 1} | kwargs
    with pytest.raises(FinderInputError, match=message):
        Need(**values)


def test_tables_the_model_cannot_express_are_refused() -> None:
    with pytest.raises(FinderTableError, match="契約プラン A の validity_months が18"):
        Finder(make_table([("A", PlanKind.CONTRACT, 18, 8, 80_000)]))
    with pytest.raises(FinderTableError, match="H の tickets が5"):
        Finder(make_table([("A", PlanKind.CONTRACT, 12, 8, 80_000),
                           ("H", PlanKind.ADDON, 12, 5, 30_000)]))


# --- the seed's recommendation guide -------------------------------------------------

# Each situation of the guide as finder inputs (on-premises perpetual license, version-ups
# needed), the finder's cheapest contracts, and whether that agrees with the guide.
GUIDE = {
    "skilled-it-team": [
        ((1, 3, 0), ("A",), True),
        ((5, 2, 2), ("G",), True),  # G + 2H 296,000 < A x 5 400,000
    ],
    "no-in-house-expert": [
        # B never beats A + add-ons: at 18 cases both cost 160,000 (A+10H first: table
        # order); the guide prefers B for not having to buy add-ons one by one.
        ((1, 18, 0), ("A",), False),
        ((1, 30, 0), ("C",), True),
    ],
    "frequent-design-changes": [
        ((1, 30, 0), ("C",), True),
        # from 38 cases a year the 2-year D (40 tickets, 300,000) beats C + add-ons
        ((1, 40, 0), ("D",), False),
    ],
    "many-departments": [
        ((1, 30, 0), ("C",), True),
        # over 5 years multi-year plans + add-ons beat C each year (1,200,000)
        ((5, 30, 30), ("D", "F"), False),
    ],
    "busy-first-years": [
        ((2, 30, 10), ("D",), True),
        ((3, 40, 10), ("E",), True),
        ((5, 40, 10), ("F",), True),
    ],
    "onprem-version-ups-only": [
        ((5, 0, 0), ("G",), True),
        # for 3 years A x 3 (240,000) is cheaper than G (280,000)
        ((3, 0, 0), ("A", "A", "A"), False),
    ],
    "onprem-server-concerns": [
        ((1, 30, 0), ("C",), True),
        ((5, 16, 16), ("F",), True),
    ],
}


@pytest.fixture(scope="module")
def shipped(content_root):
    return load_content(content_root)


def test_every_guide_case_is_translated(shipped) -> None:
    assert {case.id for case in shipped.recommendations} == set(GUIDE)


@pytest.mark.parametrize("case_id", sorted(GUIDE))
def test_guide_cases(shipped, case_id: str) -> None:
    guide = next(case for case in shipped.recommendations if case.id == case_id)
    finder = Finder(shipped.plans)
    for (years, first, later), expected, agrees in GUIDE[case_id]:
        result = finder.find(Need(ONPREM, True, years, first, later))
        for option in result.options:
            check_option(shipped.plans, result.need, option)
        best = result.options[0].codes
        assert best == expected, (case_id, years, first, later)
        assert (len(best) == 1 and best[0] in guide.plans) is agrees, (case_id, best, guide.plans)


def test_b_ties_with_a_and_add_ons() -> None:
    first, second = answer(ONPREM, True, 1, 18, 0).options[:2]
    assert (first.codes, second.codes) == (("A",), ("B",))
    assert first.total_incl == second.total_incl == 176_000


# --- properties against the oracle ---------------------------------------------------

PRODUCTS = st.sampled_from([CLOUD, ONPREM, ASP])


def _compare_with_brute_force(table, need: Need, limit: int) -> None:
    result = Finder(table, limit=limit).find(need)
    every = enumerate_schedules(table, need)
    for option in result.options:
        check_option(table, need, option)
    got = [(o.total_incl, o.total_excl) for o in result.options]
    # the returned options are the `limit` cheapest valid schedules
    assert got == [(incl, excl) for incl, excl, _ in every[:limit]]
    priced = {codes: (incl, excl) for incl, excl, codes in every}
    codes = [o.codes for o in result.options]
    assert len(set(codes)) == len(codes)
    for option in result.options:
        assert priced[option.codes] == (option.total_incl, option.total_excl)
    assert bool(result.options) == bool(every)
    if not result.options:
        assert result.reason


@settings(max_examples=300, deadline=None)
@given(
    product=PRODUCTS,
    version_ups=st.booleans(),
    contract_allowed=st.booleans(),
    years=st.integers(1, 5),
    first=st.integers(0, 60),
    later=st.integers(0, 60),
)
def test_seed_table_matches_brute_force(
    product: Product, version_ups: bool, contract_allowed: bool, years: int, first: int,
    later: int,
) -> None:
    need = Need(product, version_ups, years, first, later, contract_allowed)
    _compare_with_brute_force(TABLE, need, 3)


@st.composite
def tables(draw):
    contracts = draw(st.lists(
        st.tuples(st.sampled_from([12, 24, 36, 60]), st.integers(1, 30),
                  st.integers(1_000, 400_000), st.booleans()),
        min_size=1, max_size=4,
    ))
    rows = [("ABCD"[i], PlanKind.CONTRACT, *c) for i, c in enumerate(contracts)]
    if draw(st.booleans()):
        rows.append(("H", PlanKind.ADDON, 12, 1, draw(st.integers(1_000, 20_000))))
    if draw(st.booleans()):
        rows.append(("I", PlanKind.SPOT, 1, 1, draw(st.integers(1_000, 30_000))))
    rate = draw(st.sampled_from(["0.08", "0.10", "0.1"]))
    rounding = draw(st.sampled_from(list(Rounding)))
    return make_table(rows, rate, rounding)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=tables(),
    product=PRODUCTS,
    version_ups=st.booleans(),
    contract_allowed=st.booleans(),
    years=st.integers(1, 4),
    first=st.integers(0, 25),
    later=st.integers(0, 25),
    limit=st.integers(1, 5),
)
def test_random_tables_match_brute_force(
    table, product: Product, version_ups: bool, contract_allowed: bool, years: int,
    first: int, later: int, limit: int,
) -> None:
    need = Need(product, version_ups, years, first, later, contract_allowed)
    _compare_with_brute_force(table, need, limit)
