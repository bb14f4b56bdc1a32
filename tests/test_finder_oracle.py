"""An independent oracle for the plan finder, and tests that the oracle itself catches mistakes.

`check_option` replays an option year by year against the rules of the price table and
fails naming the broken rule; `enumerate_schedules` lists every schedule of contracts and
years without one by brute force, with its price from the same year-by-year replay. Neither
uses the finder's code: the other finder tests compare the finder with them.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from cmskb.content.model import (
    Audience,
    Plan,
    PlanKind,
    PlanTable,
    Product,
    Rounding,
    Source,
    TaxRule,
)
from cmskb.finder.search import Need, Option, Segment

SRC = Source("plans.yml", 1)

# The seed's price table (the truth for hand-checked cases): code, years or months,
# tickets, price excl. tax.
SEED_ROWS = [
    ("A", PlanKind.CONTRACT, 12, 8, 80_000),
    ("B", PlanKind.CONTRACT, 12, 18, 160_000),
    ("C", PlanKind.CONTRACT, 12, 30, 240_000),
    ("D", PlanKind.CONTRACT, 24, 40, 300_000),
    ("E", PlanKind.CONTRACT, 36, 60, 420_000),
    ("F", PlanKind.CONTRACT, 60, 80, 520_000),
    ("G", PlanKind.CONTRACT, 60, 8, 280_000),
    ("H", PlanKind.ADDON, 12, 1, 8_000),
    ("I", PlanKind.SPOT, 1, 1, 12_000),
]
_AUDIENCE = {
    PlanKind.CONTRACT: Audience.ANYONE,
    PlanKind.ADDON: Audience.CONTRACT_HOLDERS,
    PlanKind.SPOT: Audience.NON_CONTRACT_HOLDERS,
}

CLOUD = Product("cloud", "CMSKITクラウド", minor_version_ups_without_contract=True)
ONPREM = Product("onprem-perpetual", "導入型(無期限)")
ASP = Product("asp", "CMSKIT-ASP")


def make_plan(
    code: str, kind: PlanKind, months: int, tickets: int, price: int, vu: bool = True
) -> Plan:
    return Plan(
        code=code,
        name=f"プラン{code}",
        kind=kind,
        validity_months=months,
        minor_version_up=vu and kind is PlanKind.CONTRACT,
        tickets=tickets,
        price_excl_tax=price,
        available_to=_AUDIENCE[kind],
        description="",
        source=SRC,
    )


def make_table(rows, rate: str = "0.10", rounding: Rounding = Rounding.FLOOR) -> PlanTable:
    return PlanTable(
        tax=TaxRule(Decimal(rate), rounding),
        plans=tuple(make_plan(*row) for row in rows),
        notes=(),
        source=SRC,
    )


def seed_table() -> PlanTable:
    return make_table(SEED_ROWS)


# --- the independent checker ---------------------------------------------------------


def demands_of(need: Need) -> list[int]:
    return [need.first_year] + [need.later_years] * (need.years - 1)


def _one(table: PlanTable, kind: PlanKind) -> Plan | None:
    found = [p for p in table.plans if p.kind is kind]
    return found[0] if found else None


def check_option(table: PlanTable, need: Need, option: Option) -> None:
    """Replay `option` year by year; fail with the rule it breaks."""
    demands = demands_of(need)
    vu_without_contract = need.product.minor_version_ups_without_contract
    addon, spot = _one(table, PlanKind.ADDON), _one(table, PlanKind.SPOT)
    year = 1
    incl = excl = 0
    for seg in option.segments:
        assert seg.start == year, f"segment starts in year {seg.start}, expected {year}"
        if seg.plan is None:
            assert seg.years == 1 and seg.extra_years == 0, "a year without contract is 1 year"
            years = [year]
        else:
            assert need.contract_allowed, "a contract although none is wanted"
            assert seg.plan.kind is PlanKind.CONTRACT, "only contracts run for years"
            assert seg.plan in table.plans
            length = seg.plan.validity_months // 12
            assert seg.years == min(length, need.years - year + 1), "contract span"
            assert seg.extra_years == length - seg.years, "years past the need"
            years = list(range(year, year + seg.years))
        cases = sum(demands[y - 1] for y in years)
        assert seg.cases == cases, "cases of the segment"
        # version-ups: every year of the need must have them if they are needed
        has_vu = vu_without_contract or (seg.plan is not None and seg.plan.minor_version_up)
        if need.version_ups:
            assert has_vu, f"year {year}: version-ups needed but not received"
        # tickets: replay each year; a contract's pool serves any of its years, add-on
        # tickets are bought in a contract year for that year, spot tickets in a year without
        pool = seg.plan.tickets if seg.plan else 0
        bought = 0
        for y in years:
            need_now = demands[y - 1]
            used = min(pool, need_now)
            pool -= used
            bought += need_now - used
        assert seg.extra_count == bought, "every case needs exactly one ticket"
        if bought:
            extra = addon if seg.plan is not None else spot
            assert extra is not None, "tickets needed but the table sells none"
            assert seg.extra_plan == extra, "wrong kind of extra ticket for the segment"
            assert seg.extra_plan.available_to is (
                Audience.CONTRACT_HOLDERS if seg.plan else Audience.NON_CONTRACT_HOLDERS
            )
        else:
            assert seg.extra_plan is None and seg.extra_count == 0, "extra tickets not needed"
        assert seg.unused == pool, "unused tickets"
        assert seg.tickets == (seg.plan.tickets if seg.plan else 0)
        seg_excl = (seg.plan.price_excl_tax if seg.plan else 0)
        seg_incl = table.tax.including(seg.plan.price_excl_tax) if seg.plan else 0
        if bought:
            seg_excl += bought * seg.extra_plan.price_excl_tax
            seg_incl += bought * table.tax.including(seg.extra_plan.price_excl_tax)
        assert (seg.price_excl, seg.price_incl) == (seg_excl, seg_incl), "segment price"
        assert seg.version_ups == (seg.plan is not None and seg.plan.minor_version_up)
        incl += seg_incl
        excl += seg_excl
        year += seg.years
    assert year == need.years + 1, "the years of the need are not all covered"
    assert (option.total_incl, option.total_excl) == (incl, excl), "option totals"


# --- the brute-force enumerator ------------------------------------------------------


def enumerate_schedules(table: PlanTable, need: Need) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every valid schedule as (incl, excl, codes), cheapest first ("-": no contract).

    A contract whose years have no case is left out unless version-ups need it (the
    finder's stated rule: such a contract never serves a purpose).
    """
    demands = demands_of(need)
    contracts = [p for p in table.plans if p.kind is PlanKind.CONTRACT]
    addon, spot = _one(table, PlanKind.ADDON), _one(table, PlanKind.SPOT)
    contract_vu = need.version_ups and not need.product.minor_version_ups_without_contract
    out: list[tuple[int, int, tuple[str, ...]]] = []

    def walk(year: int, incl: int, excl: int, codes: tuple[str, ...]) -> None:
        if year > need.years:
            out.append((incl, excl, codes))
            return
        if not contract_vu:
            n = demands[year - 1]
            if n == 0:
                walk(year + 1, incl, excl, (*codes, "-"))
            elif spot is not None:
                walk(year + 1, incl + n * table.tax.including(spot.price_excl_tax),
                     excl + n * spot.price_excl_tax, (*codes, "-"))
        if not need.contract_allowed:
            return
        for plan in contracts:
            if contract_vu and not plan.minor_version_up:
                continue
            years = range(year, min(year + plan.validity_months // 12, need.years + 1))
            pool, short = plan.tickets, 0
            for y in years:
                used = min(pool, demands[y - 1])
                pool -= used
                short += demands[y - 1] - used
            if not contract_vu and sum(demands[y - 1] for y in years) == 0:
                continue
            if short and addon is None:
                continue
            walk(
                year + len(years),
                incl + table.tax.including(plan.price_excl_tax)
                + short * (table.tax.including(addon.price_excl_tax) if short else 0),
                excl + plan.price_excl_tax + (short * addon.price_excl_tax if short else 0),
                (*codes, plan.code),
            )

    walk(1, 0, 0, ())
    return sorted(out, key=lambda row: (row[0], row[1]))


# --- tests of the oracle itself ------------------------------------------------------


def _seg(table: PlanTable, start: int, code: str | None, years: int, extra: int, cases: int,
         count: int, unused: int) -> Segment:
    plan = table.plan(code) if code else None
    extra_plan = None
    if count:
        extra_plan = table.plan("H") if plan else table.plan("I")
    excl = (plan.price_excl_tax if plan else 0) + count * (extra_plan.price_excl_tax if count
                                                           else 0)
    incl = (table.tax.including(plan.price_excl_tax) if plan else 0) + count * (
        table.tax.including(extra_plan.price_excl_tax) if count else 0)
    return Segment(start, plan, years, extra, cases, plan.tickets if plan else 0, extra_plan,
                   count, unused, excl, incl, plan is not None)


def _option(*segments: Segment) -> Option:
    return Option(segments, sum(s.price_excl for s in segments),
                  sum(s.price_incl for s in segments))


def test_checker_accepts_a_hand_made_valid_option() -> None:
    table = seed_table()
    need = Need(ONPREM, True, 3, 20, 5)
    option = _option(_seg(table, 1, "D", 2, 0, 25, 0, 15), _seg(table, 3, "A", 1, 0, 5, 0, 3))
    check_option(table, need, option)
    assert option.total_excl == 380_000


@pytest.mark.parametrize(
    ("need", "segments", "rule"),
    [
        # a spot-ticket year for an on-premises license that needs version-ups
        (Need(ONPREM, True, 2, 3, 0), [(1, None, 1, 0, 3, 3, 0), (2, "A", 1, 0, 0, 0, 8)],
         "version-ups"),
        # too few tickets: A has 8, 10 cases, no add-ons bought
        (Need(ONPREM, True, 1, 10, 0), [(1, "A", 1, 0, 10, 0, 0)], "exactly one ticket"),
        # a gap: year 2 is not covered at all
        (Need(ASP, False, 2, 1, 1), [(1, "A", 1, 0, 1, 0, 7)], "not all covered"),
        # a contract although the customer wants none
        (Need(ASP, False, 1, 9, 0, contract_allowed=False), [(1, "A", 1, 0, 9, 1, 0)],
         "none is wanted"),
        # add-on tickets counted for a year without a contract: wrong kind
        (Need(CLOUD, True, 1, 2, 0), [(1, None, 1, 0, 2, 2, 0)], None),
        # a 2-year contract claimed to cover 3 years
        (Need(ONPREM, True, 3, 1, 1), [(1, "D", 3, 0, 3, 0, 37)], "contract span"),
    ],
)
def test_checker_rejects_broken_options(need: Need, segments, rule: str | None) -> None:
    table = seed_table()
    option = _option(*(_seg(table, *s) for s in segments))
    if rule is None:  # the cloud case is valid: show the checker accepts it, then break it
        check_option(table, need, option)
        bad = dataclasses.replace(option.segments[0], extra_plan=table.plan("H"))
        with pytest.raises(AssertionError, match="wrong kind"):
            check_option(table, need, _option(bad))
        return
    with pytest.raises(AssertionError, match=rule):
        check_option(table, need, option)


def test_enumerator_on_a_hand_checked_need() -> None:
    # 1 year, 7 cases, ASP without version-ups: 7 spot tickets 84,000 excl. (92,400 incl.)
    # beat A 80,000 + nothing?  No: A covers 7 cases for 80,000, cheaper than 84,000.
    rows = enumerate_schedules(seed_table(), Need(ASP, False, 1, 7, 0))
    assert rows[0] == (88_000, 80_000, ("A",))
    assert rows[1] == (92_400, 84_000, ("-",))
    # every contract of the table appears once (each covers year 1)
    assert sorted(codes for _, _, codes in rows) == [(c,) for c in "-ABCDEFG"]
