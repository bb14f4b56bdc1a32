"""The search when contracts may overlap (``rules.contracts_at_once`` of 2 or more).

A dynamic programme over the years. The state at the start of a year is what the
customer holds: the contracts still running (their last year within the need, whether
they bring version-ups, whether they are 1-year contracts) and their tickets, pooled by
the year they expire. Each year chooses the contracts to buy (a multiset in table order,
each with a purpose, see `search`), then how many tickets the year takes from contract
tickets that would still be valid later (only where that is a choice: add-on tickets
sold in some years only), and pays for the rest with add-on or spot tickets.

Tickets that can never be used are written off when the state is formed (for each year
e, the tickets that expire by e beyond the need of the years up to e, taken from those
that expire first): states that differ only there have the same futures, and the count of
unused tickets stays exact.

Each state keeps its `limit` best futures; futures are told apart by what they buy
(the contracts of each year), the cheapest way of drawing tickets winning, so the answer
lists distinct schedules only.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..content.model import AddonRule
from .catalog import NOTHING, ZERO, Catalog, Contract, Cost, plus

_Held = tuple[tuple[int, bool, bool], ...]  # (last year, version-ups, 1-year) per contract
_Pools = tuple[tuple[int, int], ...]  # (last year, tickets), by last year
Identity = tuple[tuple[int, ...], ...]  # per year: contract indexes bought, or (NOTHING,)
Path = tuple[tuple[tuple[int, ...], int | None], ...]  # per year: (bought, draw)
Entry = tuple[Cost, Identity, Path]


class OverlapSearch:
    """The `limit` best schedules when up to `rules.contracts_at_once` contracts overlap."""

    def __init__(self, catalog: Catalog, limit: int) -> None:
        self.catalog = catalog
        self.limit = limit
        self.at_once = catalog.rules.contracts_at_once
        self.choose_draws = catalog.rules.addon_tickets_with is AddonRule.ONE_YEAR_CONTRACTS
        self._memo: dict[tuple[object, ...], tuple[Entry, ...]] = {}

    def best(
        self, needs: tuple[int, ...], *, contract_vu: bool, contract_allowed: bool
    ) -> tuple[Entry, ...]:
        """The cheapest schedules for the years of `needs` (tickets per year), best first."""
        return self._best(1, needs, (), (), contract_vu, contract_allowed)

    def _best(
        self,
        year: int,
        needs: tuple[int, ...],
        held: _Held,
        pools: _Pools,
        contract_vu: bool,
        contract_allowed: bool,
    ) -> tuple[Entry, ...]:
        rest = needs[year - 1 :]
        key = (year, rest, len(needs), held, pools, contract_vu, contract_allowed)
        found = self._memo.get(key)
        if found is not None:
            return found
        options: dict[Identity, tuple[Cost, Path]] = {}
        for bought, now_held, now_pools, price in self._purchases(
            year, needs, held, pools, contract_vu, contract_allowed
        ):
            mark = tuple(bought) or (NOTHING,)
            for draw, cost, next_held, next_pools in self._years_use(
                year, needs, now_held, now_pools, contract_vu
            ):
                cost = plus(price, cost)
                step = ((tuple(bought), draw),)
                if year == len(needs):
                    futures: tuple[Entry, ...] = ((ZERO, (), ()),)
                else:
                    futures = self._best(year + 1, needs, next_held, next_pools, contract_vu,
                                         contract_allowed)
                for future_cost, identity, path in futures:
                    total = plus(cost, future_cost)
                    full = (mark, *identity)
                    known = options.get(full)
                    if known is None or total < known[0]:
                        options[full] = (total, step + path)
        ranked = sorted((cost, identity, path) for identity, (cost, path) in options.items())
        result = tuple(ranked[: self.limit])
        self._memo[key] = result
        return result

    def _purchases(
        self,
        year: int,
        needs: tuple[int, ...],
        held: _Held,
        pools: _Pools,
        contract_vu: bool,
        contract_allowed: bool,
    ) -> Iterator[tuple[list[int], _Held, _Pools, Cost]]:
        """Every multiset of contracts the year may buy, each with a purpose, in table order."""
        horizon = len(needs)
        contracts = self.catalog.contracts if contract_allowed else ()

        def grow(start: int, bought: list[int], now_held: _Held, now_pools: _Pools,
                 price: Cost) -> Iterator[tuple[list[int], _Held, _Pools, Cost]]:
            yield bought, now_held, now_pools, price
            if len(now_held) >= self.at_once:
                return
            vu_missing = contract_vu and not any(vu for _, vu, _ in now_held)
            for contract in contracts[start:]:
                end = min(year + contract.years - 1, horizon)
                if not ((vu_missing and contract.version_ups)
                        or _shortage(now_pools, needs, year, end)):
                    continue  # no purpose: nothing it would add is needed
                yield from grow(
                    contract.index,
                    [*bought, contract.index],
                    tuple(sorted((*now_held, (end, contract.version_ups, contract.one_year)))),
                    _add(now_pools, end, contract.tickets),
                    plus(price, _price(contract)),
                )

        yield from grow(0, [], held, pools, ZERO)

    def _years_use(
        self, year: int, needs: tuple[int, ...], held: _Held, pools: _Pools, contract_vu: bool
    ) -> Iterator[tuple[int | None, Cost, _Held, _Pools]]:
        """How the year can be served: (draw, cost, state next year) for each choice."""
        catalog = self.catalog
        need = needs[year - 1]
        if contract_vu and not any(vu for _, vu, _ in held):
            return
        if not held:
            if need and catalog.spot is None:
                return
            yield None, catalog.spot_cost(need), (), ()
            return
        expiring = sum(t for end, t in pools if end == year)
        later = sum(t for end, t in pools if end > year)
        used = min(need, expiring)
        rest = need - used
        addons_ok = catalog.addons_allowed(
            running=True, one_year_running=any(one_year for _, _, one_year in held)
        )
        if self.choose_draws and addons_ok and rest and later:
            draws: list[int | None] = list(range(min(rest, later) + 1))
        else:
            draws = [None]
        next_held = tuple(h for h in held if h[0] > year)
        for draw in draws:
            taken = min(rest, later) if draw is None else draw
            addons = rest - taken
            if addons and not addons_ok:
                continue
            left = _take(pools, year, taken)
            written_off, next_pools = _write_off(left, needs, year)
            cost = plus(catalog.addon_cost(addons), Cost(0, 0, 0, -(expiring - used + written_off)))
            yield draw, cost, next_held, next_pools


def _price(contract: Contract) -> Cost:
    return Cost(contract.price_incl, contract.price_excl, 1, 0)


def _add(pools: _Pools, end: int, tickets: int) -> _Pools:
    merged = dict(pools)
    merged[end] = merged.get(end, 0) + tickets
    return tuple(sorted(merged.items()))


def _shortage(pools: _Pools, needs: tuple[int, ...], first: int, last: int) -> int:
    """Tickets the years first..last need beyond those held (soonest to expire used first)."""
    left = dict(pools)
    short = 0
    for year in range(first, last + 1):
        need = needs[year - 1]
        for end in sorted(left):
            if end < year or not need:
                continue
            taken = min(left[end], need)
            left[end] -= taken
            need -= taken
        short += need
    return short


def _take(pools: _Pools, year: int, later: int) -> list[list[int]]:
    """The pools after the year's use: every ticket expiring this year is gone (used or
    expired), and `later` tickets are taken from the others, soonest to expire first."""
    left = []
    for end, tickets in pools:
        if end <= year:
            continue
        taken = min(tickets, later)
        later -= taken
        left.append([end, tickets - taken])
    return left


def _write_off(pools: list[list[int]], needs: tuple[int, ...], year: int) -> tuple[int, _Pools]:
    """Tickets that can never be used (see the module docstring) and the pools without them."""
    written_off = 0
    for i, (end, _) in enumerate(pools):
        room = sum(needs[year:end])  # the needs of years year+1 .. end
        held = sum(tickets for _, tickets in pools[: i + 1])
        excess = held - room
        j = 0
        while excess > 0:
            cut = min(excess, pools[j][1])
            pools[j][1] -= cut
            excess -= cut
            written_off += cut
            j += 1
    return written_off, tuple((end, tickets) for end, tickets in pools if tickets)
