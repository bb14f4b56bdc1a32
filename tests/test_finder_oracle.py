"""An independent oracle for the plan finder, and tests that the oracle itself catches mistakes.

`check_option` replays an option year by year against the rules of the price table and
the rules of plans.yml, failing with the rule it breaks; `enumerate_schedules` lists every
schedule by brute force (every multiset of contracts a year may buy, every way a year may
draw on its contract tickets), priced by the same year-by-year replay. Neither uses the
finder's code: the other finder tests compare the finder with them.

The rules (plans.yml `rules`, the finder module's docstring): a case takes
`tickets_per_case` tickets; at most `contracts_at_once` contracts run in a year; add-on
tickets are bought in a year some contract runs (with `one_year_contracts`, a 1-year
contract) and spot tickets in a year none does; a contract is bought only with a purpose
(version-ups not yet brought by a running contract, or tickets short in its years).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from itertools import product as cartesian

import pytest
from cmskb.content.model import (
    AddonRule,
    Audience,
    FinderRules,
    Plan,
    PlanKind,
    PlanTable,
    Product,
    Rounding,
    Source,
    TaxRule,
)
from cmskb.finder.search import Need, Option

SRC = Source("plans.yml", 1)
NONE_BOUGHT = 99  # a year that buys no contract ranks after one that buys (table order)
MARGIN_PERCENT = 5

# The seed's price table (the truth for hand-checked cases): code, kind, months, tickets,
# price excl. tax.
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

CLOUD = Product("cloud", "CMSKITクラウド")
ONPREM = Product("onprem-perpetual", "導入型(無期限)")
ASP = Product("asp", "CMSKIT-ASP")
# the shipped reading of the seed: only CMSKITクラウド gets version-ups without a contract
SEED_RULES = FinderRules(version_ups_without_contract=("cloud",))


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


def make_table(
    rows, rate: str = "0.10", rounding: Rounding = Rounding.FLOOR,
    rules: FinderRules = SEED_RULES,
) -> PlanTable:
    return PlanTable(
        tax=TaxRule(Decimal(rate), rounding),
        plans=tuple(make_plan(*row) for row in rows),
        notes=(),
        source=SRC,
        rules=rules,
    )


def seed_table(**rules: object) -> PlanTable:
    """The seed's table under the shipped rules, with `rules` changed."""
    return make_table(SEED_ROWS, rules=dataclasses.replace(SEED_RULES, **rules))


# --- shared rules of the price table, written for the oracle only ----------------------


def demands_of(need: Need) -> list[int]:
    return [need.first_year] + [need.later_years] * (need.years - 1)


def _one(table: PlanTable, kind: PlanKind) -> Plan | None:
    found = [p for p in table.plans if p.kind is kind]
    return found[0] if found else None


def _contracts(table: PlanTable) -> list[Plan]:
    return [p for p in table.plans if p.kind is PlanKind.CONTRACT]


def _needs_contract_vu(table: PlanTable, need: Need) -> bool:
    return need.version_ups and need.product.id not in table.rules.version_ups_without_contract


def _addons_allowed(table: PlanTable, running: list[Plan]) -> bool:
    if _one(table, PlanKind.ADDON) is None or not running:
        return False
    if table.rules.addon_tickets_with is AddonRule.ANY_CONTRACT:
        return True
    return any(p.validity_months == 12 for p in running)


def _incl(table: PlanTable, plan: Plan) -> int:
    return table.tax.including(plan.price_excl_tax)


# --- the independent checker ---------------------------------------------------------


def check_option(table: PlanTable, need: Need, option: Option) -> None:
    """Replay `option` year by year; fail with the rule it breaks."""
    rules = table.rules
    demands = demands_of(need)
    contract_vu = _needs_contract_vu(table, need)
    addon, spot = _one(table, PlanKind.ADDON), _one(table, PlanKind.SPOT)
    held: list[list] = []  # [plan, last year within the need, tickets left]
    incl = excl = 0
    assert [y.year for y in option.years] == list(range(1, need.years + 1)), "years covered"
    for use in option.years:
        year = use.year
        bought = [c.plan for c in use.bought]
        assert not bought or need.contract_allowed, "a contract although none is wanted"
        for plan in bought:
            assert plan.kind is PlanKind.CONTRACT and plan in table.plans
            held.append([plan, min(year + plan.validity_months // 12 - 1, need.years),
                         plan.tickets])
        held = [h for h in held if h[1] >= year]
        running = [h[0] for h in held]
        assert len(running) <= rules.contracts_at_once, "too many contracts at once"
        assert sorted(p.code for p in running) == sorted(h.contract.plan.code for h in use.running)
        has_vu = any(p.minor_version_up for p in running)
        assert use.version_ups == has_vu
        if contract_vu:
            assert has_vu, f"year {year}: version-ups needed but not received"
        tickets = demands[year - 1] * rules.tickets_per_case
        assert (use.cases, use.tickets) == (demands[year - 1], tickets), "cases of the year"
        available = sum(h[2] for h in held)
        assert use.from_contracts <= min(available, tickets), "more tickets used than held"
        assert use.from_contracts + use.addons + use.spots == tickets, "every ticket paid once"
        if not running:
            assert use.addons == 0 and use.from_contracts == 0, "add-ons need a contract"
            assert not use.spots or spot is not None, "spot tickets not sold"
        else:
            assert use.spots == 0, "spot tickets only in a year without a contract"
            assert not use.addons or _addons_allowed(table, running), "add-ons not allowed"
        expiring = sum(h[2] for h in held if h[1] == year)
        assert use.from_contracts >= min(tickets, expiring), "tickets left to expire unused"
        left = use.from_contracts
        for h in sorted(held, key=lambda h: h[1]):  # the soonest to expire first
            taken = min(h[2], left)
            h[2] -= taken
            left -= taken
        assert use.expired == sum(h[2] for h in held if h[1] == year), "unused tickets"
        year_excl = sum(p.price_excl_tax for p in bought)
        year_incl = sum(_incl(table, p) for p in bought)
        if use.addons:
            year_excl += use.addons * addon.price_excl_tax
            year_incl += use.addons * _incl(table, addon)
        if use.spots:
            year_excl += use.spots * spot.price_excl_tax
            year_incl += use.spots * _incl(table, spot)
        assert (use.cost.excl, use.cost.incl) == (year_excl, year_incl), "price of the year"
        incl += year_incl
        excl += year_excl
    assert (option.total_incl, option.total_excl) == (incl, excl), "option totals"
    segments = option.segments
    starts = [s.start for s in segments]
    assert starts[0] == 1 and sum(s.years for s in segments) == need.years, "periods"
    years = option.years
    for seg_total, year_total in [
        (sum(s.addons for s in segments), sum(y.addons for y in years)),
        (sum(s.spots for s in segments), sum(y.spots for y in years)),
        (sum(s.unused for s in segments), sum(y.expired for y in years)),
        (sum(s.cases for s in segments), sum(y.cases for y in years)),
        (sum(s.price_incl for s in segments), incl),
        (sum(s.price_excl for s in segments), excl),
    ]:
        assert seg_total == year_total, "periods add up to the years"


# --- the brute-force enumerator ------------------------------------------------------


def identity_of(table: PlanTable, option: Option) -> tuple[tuple[int, ...], ...]:
    """What an option buys, as the oracle names schedules (contract positions per year)."""
    index = {p.code: i for i, p in enumerate(_contracts(table))}
    return tuple(tuple(sorted(index[c.plan.code] for c in y.bought)) or (NONE_BOUGHT,)
                 for y in option.years)


def enumerate_schedules(
    table: PlanTable, need: Need, *, every_draw: bool | None = None
) -> list[tuple[tuple[int, ...], tuple]]:
    """Every valid schedule, cheapest first, as ((incl, excl, purchases, -unused), identity).

    The identity lists per year the positions (in table order among contracts) of the
    contracts bought, or (99,) for none; each identity appears once, at its cheapest way of
    drawing tickets. `every_draw` tries every number of contract tickets a year may use;
    by default only where add-on tickets are sold in some contract years only: otherwise
    using as many as possible is never worse (a ticket kept for later saves at most one
    add-on ticket later, which costs what one costs now), which
    `test_using_every_ticket_at_once_is_never_worse` checks by trying them all.
    """
    if every_draw is None:
        every_draw = table.rules.addon_tickets_with is AddonRule.ONE_YEAR_CONTRACTS
    rules = table.rules
    demands = [d * rules.tickets_per_case for d in demands_of(need)]
    contracts = _contracts(table)
    addon, spot = _one(table, PlanKind.ADDON), _one(table, PlanKind.SPOT)
    contract_vu = _needs_contract_vu(table, need)
    best: dict[tuple, tuple[int, int, int, int]] = {}

    def shortage(held: list[list], first: int, last: int) -> int:
        left = [h[:] for h in held]
        short = 0
        for y in range(first, last + 1):
            n = demands[y - 1]
            for h in sorted(left, key=lambda h: h[1]):
                if h[1] >= y and n:
                    taken = min(h[2], n)
                    h[2] -= taken
                    n -= taken
            short += n
        return short

    def purchases(year: int, held: list[list]):
        """Every multiset the year may buy: (positions, held after buying)."""
        def grow(start: int, chosen: list[int], now: list[list]):
            yield chosen, now
            running = [h for h in now if h[1] >= year]
            if not need.contract_allowed or len(running) >= rules.contracts_at_once:
                return
            for pos in range(start, len(contracts)):
                plan = contracts[pos]
                last = min(year + plan.validity_months // 12 - 1, need.years)
                vu_missing = contract_vu and not any(h[0].minor_version_up for h in running)
                if not ((vu_missing and plan.minor_version_up) or shortage(now, year, last)):
                    continue
                yield from grow(pos, [*chosen, pos], [*(h[:] for h in now),
                                                      [plan, last, plan.tickets]])

        yield from grow(0, [], held)

    def walk(year: int, held: list[list], cost: tuple[int, int, int, int], ident: tuple):
        if year > need.years:
            known = best.get(ident)
            if known is None or cost < known:
                best[ident] = cost
            return
        for chosen, now in purchases(year, held):
            running = [h for h in now if h[1] >= year]
            plans = [h[0] for h in running]
            if contract_vu and not any(p.minor_version_up for p in plans):
                continue
            n = demands[year - 1]
            price = [sum(_incl(table, contracts[p]) for p in chosen),
                     sum(contracts[p].price_excl_tax for p in chosen), len(chosen)]
            if not running:
                if n and spot is None:
                    continue
                step = (price[0] + n * (_incl(table, spot) if n else 0),
                        price[1] + n * (spot.price_excl_tax if n else 0), price[2] + n, 0)
                walk(year + 1, [], _add(cost, step), (*ident, tuple(chosen) or (NONE_BOUGHT,)))
                continue
            total = sum(h[2] for h in running)
            addons_ok = _addons_allowed(table, plans)
            # every number of contract tickets the year may use (those expiring now first)
            expiring = sum(h[2] for h in running if h[1] == year)
            most = min(n, total)
            for use in range(min(n, expiring), most + 1) if every_draw else [most]:
                bought = n - use
                if bought and not addons_ok:
                    continue
                left = [h[:] for h in running]
                rest = use
                for h in sorted(left, key=lambda h: h[1]):
                    taken = min(h[2], rest)
                    h[2] -= taken
                    rest -= taken
                expired = sum(h[2] for h in left if h[1] == year)
                step = (
                    price[0] + (bought * _incl(table, addon) if bought else 0),
                    price[1] + (bought * addon.price_excl_tax if bought else 0),
                    price[2] + bought,
                    -expired,
                )
                walk(year + 1, [h for h in left if h[1] > year], _add(cost, step),
                     (*ident, tuple(chosen) or (NONE_BOUGHT,)))

    walk(1, [], (0, 0, 0, 0), ())
    return sorted((cost, ident) for ident, cost in best.items())


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    return tuple(x + y for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def oracle_answer(table: PlanTable, need: Need, limit: int) -> list[tuple[tuple, tuple]]:
    """What the finder must answer: the best schedule, then the next ones (up to `limit`)
    whose tax-included total is within 5 % of the best."""
    every = enumerate_schedules(table, need)[:limit]
    if not every:
        return []
    best = every[0][0][0]
    return [every[0]] + [row for row in every[1:] if row[0][0] * 100 <= best * 105]


# --- tests of the oracle itself ------------------------------------------------------


def test_enumerator_on_a_hand_checked_need() -> None:
    # 1 year, 7 cases, ASP without version-ups: A covers 7 cases for 80,000 (88,000 incl.),
    # cheaper than 7 spot tickets 84,000 (92,400); every contract appears once
    rows = enumerate_schedules(seed_table(), Need(ASP, False, 1, 7, 0))
    assert rows[0] == ((88_000, 80_000, 1, -1), ((0,),))
    assert rows[1] == ((92_400, 84_000, 7, 0), ((NONE_BOUGHT,),))
    assert sorted(ident for _, ident in rows) == sorted(
        [((i,),) for i in range(7)] + [((NONE_BOUGHT,),)])


def test_enumerator_ranks_a_tie_by_fewest_purchases() -> None:
    # 18 cases in one year: A + 10 add-ons and B both cost 176,000; B is one purchase
    rows = enumerate_schedules(seed_table(), Need(ONPREM, True, 1, 18, 0))
    assert rows[0] == ((176_000, 160_000, 1, 0), ((1,),))
    assert rows[1] == ((176_000, 160_000, 11, 0), ((0,),))


def test_enumerator_holds_contracts_together_only_when_allowed() -> None:
    need = Need(ONPREM, True, 2, 80, 0)
    alone = {ident for _, ident in enumerate_schedules(seed_table(), need)}
    together = {ident for _, ident in enumerate_schedules(seed_table(contracts_at_once=2), need)}
    assert ((3, 5), (NONE_BOUGHT,)) in together and ((3, 5), (NONE_BOUGHT,)) not in alone
    assert alone < together


def test_enumerator_sells_add_ons_with_one_year_contracts_only_when_so_ruled() -> None:
    need = Need(ONPREM, True, 2, 45, 0)  # D (40 tickets) + 5 add-ons
    any_contract = {ident for _, ident in enumerate_schedules(seed_table(), need)}
    one_year = seed_table(addon_tickets_with=AddonRule.ONE_YEAR_CONTRACTS)
    restricted = {ident for _, ident in enumerate_schedules(one_year, need)}
    assert ((3,), (NONE_BOUGHT,)) in any_contract and ((3,), (NONE_BOUGHT,)) not in restricted


def test_enumerator_counts_tickets_per_case() -> None:
    # 5 cases of 2 tickets: 10 tickets; A (8) + 2 add-ons
    rows = enumerate_schedules(seed_table(tickets_per_case=2), Need(ASP, False, 1, 5, 0))
    assert rows[0] == ((88_000 + 2 * 8_800, 96_000, 3, 0), ((0,),))


def test_oracle_shows_the_runner_up_only_within_five_percent() -> None:
    table = seed_table()
    assert len(oracle_answer(table, Need(ONPREM, True, 1, 18, 0), 2)) == 2  # a tie
    # 1 case, version-ups: A 88,000 vs the next (B 176,000): far apart
    assert len(oracle_answer(table, Need(ONPREM, True, 1, 1, 0), 2)) == 1


@pytest.mark.parametrize(
    ("need", "broken", "rule"),
    [
        # a year without a contract for an on-premises license that needs version-ups
        (Need(ONPREM, True, 2, 3, 0), {"drop_bought": 0}, "version-ups needed"),
        # too few tickets paid: an add-on taken away
        (Need(ONPREM, True, 1, 10, 0), {"addons": -1}, "every ticket paid once"),
        # add-on tickets in a year without a contract
        (Need(CLOUD, True, 1, 2, 0), {"swap": True}, "add-ons need a contract"),
    ],
)
def test_checker_rejects_broken_options(need: Need, broken: dict, rule: str) -> None:
    from cmskb.finder.search import Finder

    table = seed_table()
    option = Finder(table).find(need).options[0]
    check_option(table, need, option)  # the real option passes
    years = list(option.years)
    first = years[0]
    if "drop_bought" in broken:
        first = dataclasses.replace(first, bought=(), running=(), version_ups=False)
    if "addons" in broken:
        first = dataclasses.replace(first, addons=first.addons + broken["addons"])
    if "swap" in broken:
        first = dataclasses.replace(first, addons=first.spots, spots=0)
    years[0] = first
    with pytest.raises(AssertionError, match=rule):
        check_option(table, need, dataclasses.replace(option, years=tuple(years)))


@pytest.mark.parametrize("at_once", [1, 2, 3])
def test_using_every_ticket_at_once_is_never_worse(at_once: int) -> None:
    table = seed_table(contracts_at_once=at_once)
    for need in (Need(ONPREM, True, 3, 9, 7), Need(ASP, False, 3, 20, 3),
                 Need(CLOUD, True, 2, 45, 12), Need(ONPREM, True, 3, 0, 19)):
        assert enumerate_schedules(table, need) == enumerate_schedules(table, need,
                                                                       every_draw=True)


def test_every_rule_combination_is_enumerable() -> None:
    for at_once, addon, per_case in cartesian((1, 2, 3), AddonRule, (1, 2)):
        table = seed_table(contracts_at_once=at_once, addon_tickets_with=addon,
                           tickets_per_case=per_case)
        assert enumerate_schedules(table, Need(ONPREM, True, 2, 3, 1))
