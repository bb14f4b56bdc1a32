"""A schedule replayed year by year: what each year buys, uses and pays.

Both searches (`chain` and `overlap`) hand back schedules as the contracts bought at the
start of each year (and, where the customer has a choice, how many contract tickets a
year draws); `replay` turns one into `YearUse` records under the rules of `search`'s
docstring, or None when the schedule breaks one of them. The options shown to people are
built from these records only, so the figures of an option are computed in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .catalog import Catalog, Contract, Cost


@dataclass(frozen=True, slots=True)
class Held:
    """A contract bought at the start of year `start` (two of one plan are two Helds)."""

    start: int
    contract: Contract


@dataclass(frozen=True, slots=True)
class YearUse:
    """One year of a schedule."""

    year: int  # 1-based year of the need
    bought: tuple[Contract, ...]  # contracts bought at the start of the year
    running: tuple[Held, ...]  # every contract that runs this year (bought ones too)
    cases: int
    tickets: int  # tickets the cases need
    from_contracts: int  # tickets taken from the contracts' tickets
    addons: int  # add-on tickets bought this year
    spots: int  # spot tickets bought this year
    expired: int  # contract tickets that expire unused at the end of this year
    carried: tuple[tuple[int, int], ...]  # (last year, tickets) held at the start, before buying
    version_ups: bool  # a running contract brings minor version-ups
    cost: Cost


@dataclass(slots=True)
class _Pool:
    end: int  # last year of the need in which these tickets can be used
    tickets: int


def replay(
    catalog: Catalog,
    cases: Sequence[int],
    purchases: Sequence[Sequence[int]],
    draws: Sequence[int | None] | None = None,
    *,
    contract_vu: bool,
    contract_allowed: bool = True,
) -> tuple[YearUse, ...] | None:
    """The years of a schedule, or None when it breaks a rule.

    `purchases[y-1]` are the indexes of the contracts bought at the start of year y;
    `draws[y-1]`, when not None, is how many tickets year y takes from contract tickets
    that would still be valid next year (the rest of its need, beyond the tickets that
    expire this year, is bought as add-on tickets); None takes as many as there are,
    which is always at least as good unless add-on tickets may be bought only in some
    years (`AddonRule.ONE_YEAR_CONTRACTS`).
    """
    per_case = catalog.rules.tickets_per_case
    horizon = len(cases)
    running: list[tuple[int, Held]] = []  # (last year of the need it covers, contract)
    pools: list[_Pool] = []
    years: list[YearUse] = []
    for year in range(1, horizon + 1):
        bought = tuple(catalog.contracts[i] for i in purchases[year - 1])
        carried = tuple((p.end, p.tickets) for p in pools if p.tickets)
        if bought and not contract_allowed:
            return None
        for contract in bought:
            end = min(year + contract.years - 1, horizon)
            running.append((end, Held(year, contract)))
            pools.append(_Pool(end, contract.tickets))
        running = [(end, c) for end, c in running if end >= year]
        if len(running) > catalog.rules.contracts_at_once:
            return None
        active = tuple(held for _, held in running)
        version_ups = any(held.contract.version_ups for held in active)
        if contract_vu and not version_ups:
            return None
        need = cases[year - 1] * per_case
        cost = Cost(sum(c.price_incl for c in bought), sum(c.price_excl for c in bought),
                    len(bought), 0)
        used = addons = spots = 0
        if not active:
            if need and catalog.spot is None:
                return None
            spots = need
        else:
            pools.sort(key=lambda p: p.end)
            expiring = sum(p.tickets for p in pools if p.end == year)
            later = sum(p.tickets for p in pools if p.end > year)
            used = min(need, expiring)
            rest = need - used
            draw = min(rest, later)
            wanted = draws[year - 1] if draws is not None else None
            if wanted is not None:
                if not 0 <= wanted <= draw:
                    return None
                draw = wanted
            addons = rest - draw
            if addons and not catalog.addons_allowed(
                running=True, one_year_running=any(held.contract.one_year for held in active)
            ):
                return None
            _take(pools, used + draw)
            used += draw
        expired = sum(p.tickets for p in pools if p.end == year)
        pools = [p for p in pools if p.end > year]
        cost = Cost(
            cost.incl + addons * catalog.addon_price[0] + spots * catalog.spot_price[0],
            cost.excl + addons * catalog.addon_price[1] + spots * catalog.spot_price[1],
            cost.purchases + addons + spots,
            -expired,
        )
        years.append(
            YearUse(year, bought, active, cases[year - 1], need, used, addons, spots, expired,
                    carried, version_ups, cost)
        )
    return tuple(years)


def _take(pools: list[_Pool], count: int) -> None:
    """Take `count` tickets from `pools` (sorted by end), the soonest to expire first."""
    for pool in pools:
        if not count:
            return
        taken = min(pool.tickets, count)
        pool.tickets -= taken
        count -= taken
