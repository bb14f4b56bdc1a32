"""The price table as the finder's searches see it: contracts in whole years, unit prices.

`Catalog.of(table)` refuses a table the model cannot express (`FinderTableError`). The
ranking of schedules is defined here once: `Cost` is what a schedule adds up to, compared
as a tuple (tax-included total, tax-excluded total, number of purchases, fewest unused
tickets first); schedules that cost the same are then ordered by what they buy, year by
year, in table order (see `NOTHING`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..content.model import AddonRule, FinderRules, Plan, PlanKind, PlanTable
from ..content.price_rules import MAX_CONTRACTS, check_table_shape

# What a year buys when it buys no contract: above every contract index, so that a plain
# tuple sort ranks a year that buys a contract (in table order) before one that does not.
NOTHING = MAX_CONTRACTS + 1


class FinderTableError(ValueError):
    """A price table the finder's model cannot express; Japanese, for the editors."""


class Cost(NamedTuple):
    """What a schedule (or part of one) adds up to; a smaller tuple ranks first."""

    incl: int
    excl: int
    purchases: int  # contracts + add-on tickets + spot tickets bought
    minus_unused: int  # minus the tickets never used: more left over ranks first


ZERO = Cost(0, 0, 0, 0)


def plus(a: Cost, b: Cost) -> Cost:
    """The cost of two parts of a schedule together."""
    return Cost(a.incl + b.incl, a.excl + b.excl, a.purchases + b.purchases,
                a.minus_unused + b.minus_unused)


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract of the table: index in table order among contracts, length in years."""

    index: int
    plan: Plan
    years: int
    tickets: int
    price_incl: int
    price_excl: int

    @property
    def version_ups(self) -> bool:
        return self.plan.minor_version_up

    @property
    def one_year(self) -> bool:
        return self.years == 1


@dataclass(frozen=True, slots=True)
class Catalog:
    """The contracts, the add-on and spot tickets with their unit prices, and the rules."""

    contracts: tuple[Contract, ...]
    addon: Plan | None
    spot: Plan | None
    addon_price: tuple[int, int]  # (incl, excl) of one add-on ticket
    spot_price: tuple[int, int]
    rules: FinderRules

    @classmethod
    def of(cls, table: PlanTable) -> Catalog:
        issues = check_table_shape(table.plans)
        if issues:
            raise FinderTableError(f"plans.yml: {issues[0].message}")
        contracts = tuple(
            Contract(i, plan, plan.validity_months // 12, plan.tickets,
                     table.price_incl_tax(plan), plan.price_excl_tax)
            for i, plan in enumerate(p for p in table.plans if p.kind is PlanKind.CONTRACT)
        )
        addon = _single(table, PlanKind.ADDON)
        spot = _single(table, PlanKind.SPOT)
        return cls(contracts, addon, spot, _unit(table, addon), _unit(table, spot), table.rules)

    def addons_allowed(self, *, running: bool, one_year_running: bool) -> bool:
        """Whether add-on tickets may be bought in a year: some contract runs (a 1-year
        contract, when the rules sell add-on tickets only with those)."""
        if self.addon is None or not running:
            return False
        return (self.rules.addon_tickets_with is AddonRule.ANY_CONTRACT) or one_year_running

    def addon_cost(self, count: int) -> Cost:
        incl, excl = self.addon_price
        return Cost(count * incl, count * excl, count, 0)

    def spot_cost(self, count: int) -> Cost:
        incl, excl = self.spot_price
        return Cost(count * incl, count * excl, count, 0)


def _unit(table: PlanTable, plan: Plan | None) -> tuple[int, int]:
    if plan is None:
        return 0, 0
    return table.price_incl_tax(plan), plan.price_excl_tax


def _single(table: PlanTable, kind: PlanKind) -> Plan | None:
    """The one plan of `kind` (`check_table_shape` has refused several)."""
    return next((plan for plan in table.plans if plan.kind is kind), None)
