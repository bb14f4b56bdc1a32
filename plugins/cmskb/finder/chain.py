"""The search when contracts follow one another (``rules.contracts_at_once: 1``).

A schedule is a chain of segments: a contract bought at the start of a year and running
its whole length, or one year without a contract. The cost of a schedule is the cost of
its first segment plus the cost of the rest, so a dynamic programme over the years still
to cover, keeping the `limit` best schedules of each, finds the `limit` best exactly.
Sub-problems are memoised per instance (the page asks it every need of its range).
"""

from __future__ import annotations

from .catalog import NOTHING, Catalog, Contract

# (incl, excl, purchases, minus unused, contract index or NOTHING per segment): the
# fields of `catalog.Cost` kept flat, as the search builds millions of these
Entry = tuple[int, int, int, int, tuple[int, ...]]
_Cost = tuple[int, int, int, int]


class ChainSearch:
    """The `limit` best chains of segments for a list of yearly ticket needs."""

    def __init__(self, catalog: Catalog, limit: int) -> None:
        self.catalog = catalog
        self.limit = limit
        self._memo: dict[tuple[tuple[int, ...], bool, bool], tuple[Entry, ...]] = {}
        self._costs: dict[tuple[int, int], _Cost | None] = {}

    def best(
        self, needs: tuple[int, ...], *, contract_vu: bool, contract_allowed: bool
    ) -> tuple[Entry, ...]:
        """The cheapest schedules for the years of `needs` (tickets per year), best first.

        `contract_vu`: every year needs a contract that brings minor version-ups.
        """
        key = (needs, contract_vu, contract_allowed)
        found = self._memo.get(key)
        if found is not None:
            return found
        candidates: list[Entry] = []
        if contract_allowed:
            for contract in self.catalog.contracts:
                if contract_vu and not contract.version_ups:
                    continue
                tickets = sum(needs[: contract.years])
                if not tickets and not contract_vu:
                    continue  # a contract with no purpose: years without one cost nothing
                cost = self.contract_cost(contract, tickets)
                if cost is not None:
                    self._extend(candidates, contract.index, cost, needs[contract.years:],
                                 contract_vu, contract_allowed)
        if not contract_vu:
            cost = self.spot_cost(needs[0])
            if cost is not None:
                self._extend(candidates, NOTHING, cost, needs[1:], contract_vu,
                             contract_allowed)
        candidates.sort()
        result = tuple(candidates[: self.limit])
        self._memo[key] = result
        return result

    def _extend(
        self,
        candidates: list[Entry],
        choice: int,
        cost: _Cost,
        rest: tuple[int, ...],
        contract_vu: bool,
        contract_allowed: bool,
    ) -> None:
        incl, excl, bought, unused = cost
        if not rest:
            candidates.append((incl, excl, bought, unused, (choice,)))
            return
        for r_incl, r_excl, r_bought, r_unused, choices in self.best(
            rest, contract_vu=contract_vu, contract_allowed=contract_allowed
        ):
            candidates.append((incl + r_incl, excl + r_excl, bought + r_bought,
                               unused + r_unused, (choice, *choices)))

    def contract_cost(self, contract: Contract, tickets: int) -> _Cost | None:
        """A contract segment whose years need `tickets` (None: not possible)."""
        key = (contract.index, tickets)
        if key in self._costs:
            return self._costs[key]
        short = tickets - contract.tickets
        cost: _Cost | None = (contract.price_incl, contract.price_excl, 1, min(0, short))
        if short > 0:
            if self.catalog.addons_allowed(running=True, one_year_running=contract.one_year):
                incl, excl = self.catalog.addon_price
                cost = (contract.price_incl + short * incl, contract.price_excl + short * excl,
                        1 + short, 0)
            else:
                cost = None
        self._costs[key] = cost
        return cost

    def spot_cost(self, tickets: int) -> _Cost | None:
        """A year without a contract that needs `tickets` (None: no spot ticket sold)."""
        if tickets and self.catalog.spot is None:
            return None
        incl, excl = self.catalog.spot_price
        return tickets * incl, tickets * excl, tickets, 0

    def span(self, choice: int, years_left: int) -> int:
        """Years of the need that a choice covers when `years_left` years remain."""
        if choice == NOTHING:
            return 1
        return min(self.catalog.contracts[choice].years, years_left)

    def purchases(self, choices: tuple[int, ...], horizon: int) -> tuple[tuple[int, ...], ...]:
        """The contracts bought at the start of each year of a chain."""
        bought: list[tuple[int, ...]] = [() for _ in range(horizon)]
        year = 1
        for choice in choices:
            if choice != NOTHING:
                bought[year - 1] = (choice,)
            year += self.span(choice, horizon - year + 1)
        return tuple(bought)
