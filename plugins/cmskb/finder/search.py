"""Exact search for the cheapest support purchases that cover a customer's need.

The model (the rules of the price table, made precise):

- A need is a product (license), whether minor version-ups are needed, a number of years
  ``Y`` (1-5) and the ticket-consuming cases expected in the first year (``n1``) and in
  each later year (``n2``). One ticket serves one case. Time is counted in whole years
  from the start of the need; every purchase happens at the start of a year.
- At most one support contract (kind ``contract``) runs at a time: contracts are chained,
  back to back or with years without a contract between them. A contract of ``12*L``
  months bought at the start of year ``k`` covers years ``k .. k+L-1``. It may run past
  year ``Y``: its full price counts and the years beyond the need are reported.
- A contract's tickets serve any case of the years it covers, in any split, and expire
  with it. Add-on tickets (kind ``addon``) are bought while a contract runs and serve a
  case in that year, so a contract segment needs ``max(0, cases - tickets)`` add-on
  tickets, where ``cases`` is the sum over the years it covers within the need.
- Spot tickets (kind ``spot``) are bought only in a year without a contract, one per case;
  they bring no version-ups. Add-on and spot tickets are sold one by one (as in the
  table); the finder refuses a table that sells them in packs.
- A year has minor version-ups when a contract with ``minor_version_up`` covers it, or
  always for a product with ``minor_version_ups_without_contract`` (CMSKITクラウド). When
  version-ups are needed, every year of the need must have them. A customer may also say
  that no contract is wanted: then only years without a contract are allowed.
- A contract is bought only when it serves a purpose: when version-ups need one, or when
  the years it covers have cases. (A contract with neither is never cheapest: the same
  years without a contract cost nothing. Leaving it out keeps pointless alternatives
  out of the list.)
- Prices: the tax-excluded total is the sum of the table prices; the tax-included total is
  the sum, line by line, of the table's tax-included unit prices (``PlanTable.tax``), which
  is what a customer adds up from the price table (for whole-thousand prices and 10 % both
  ways of taxing give the same figure).
- Ranking: tax-included total, then tax-excluded total, then the purchases in table order
  (contracts before years without a contract). The search returns the ``limit`` best
  distinct schedules; it is exact: a dynamic programme over the years whose sub-problems
  (the years still to cover) keep their ``limit`` best schedules, which is enough because
  the cost of a schedule is the cost of its first segment plus the cost of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..content.model import Plan, PlanKind, PlanTable, Product
from ..content.price_rules import MAX_CONTRACTS, check_table_shape

MAX_YEARS = 5
MAX_CASES = 999  # what the search accepts; the site precomputes 0..PRECOMPUTED_CASES
DEFAULT_LIMIT = 3

# choice index of a year without a contract: above every contract index, so that a plain
# sort of (incl, excl, choices) ranks contracts in table order before it
_NO_CONTRACT = MAX_CONTRACTS + 1


class FinderInputError(ValueError):
    """A need the finder cannot take; the message is Japanese, for the person asking."""


class FinderTableError(ValueError):
    """A price table the finder's model cannot express; Japanese, for the editors."""


@dataclass(frozen=True, slots=True)
class Need:
    """What the customer needs."""

    product: Product
    version_ups: bool
    years: int
    first_year: int
    later_years: int
    contract_allowed: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.years, int) or not 1 <= self.years <= MAX_YEARS:
            raise FinderInputError(f"期間は1〜{MAX_YEARS}年の整数で指定してください。")
        for label, value in (("1年目", self.first_year), ("2年目以降", self.later_years)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise FinderInputError(f"{label}の件数は整数で指定してください。")
            if not 0 <= value <= MAX_CASES:
                raise FinderInputError(f"{label}の件数は0〜{MAX_CASES}件で指定してください。")

    @property
    def demands(self) -> tuple[int, ...]:
        """Cases expected in each year, year 1 first."""
        return (self.first_year,) + (self.later_years,) * (self.years - 1)

    @property
    def needs_contract_for_version_ups(self) -> bool:
        """True when version-ups are needed and this product gets them only by contract."""
        return self.version_ups and not self.product.minor_version_ups_without_contract


@dataclass(frozen=True, slots=True)
class Segment:
    """One step of a schedule: a contract bought at the start of `start`, or one year without."""

    start: int  # 1-based year of the need
    plan: Plan | None  # the contract; None for a year without a contract
    years: int  # years of the need it covers
    extra_years: int  # years of the contract beyond the need
    cases: int  # cases expected in the years it covers
    tickets: int  # tickets that come with the contract (0 without one)
    extra_plan: Plan | None  # the add-on (with a contract) or spot plan bought, if any
    extra_count: int  # how many of `extra_plan` are bought
    unused: int  # tickets bought and never used (they expire)
    price_excl: int
    price_incl: int
    version_ups: bool  # whether these years have minor version-ups

    @property
    def end(self) -> int:
        """Last year of the need that this segment covers."""
        return self.start + self.years - 1


@dataclass(frozen=True, slots=True)
class Option:
    """A schedule of purchases that covers the need, with its totals."""

    segments: tuple[Segment, ...]
    total_excl: int
    total_incl: int

    @property
    def unused(self) -> int:
        return sum(segment.unused for segment in self.segments)

    @property
    def addon_count(self) -> int:
        return sum(s.extra_count for s in self.segments if s.plan is not None)

    @property
    def spot_count(self) -> int:
        return sum(s.extra_count for s in self.segments if s.plan is None)

    @property
    def codes(self) -> tuple[str, ...]:
        """The contracts bought, in order ("-" for a year without a contract)."""
        return tuple(s.plan.code if s.plan else "-" for s in self.segments)


@dataclass(frozen=True, slots=True)
class Answer:
    """The options for a need, cheapest first; `reason` says why when there is none."""

    need: Need
    options: tuple[Option, ...]
    reason: str = ""
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _Contract:
    plan: Plan
    years: int
    price_excl: int
    price_incl: int


_Entry = tuple[int, int, tuple[int, ...]]  # (total incl, total excl, choices)


class Finder:
    """The search over one price table. Reuse one instance: it memoises sub-problems."""

    def __init__(self, table: PlanTable, *, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        issues = check_table_shape(table.plans)
        if issues:
            raise FinderTableError(f"plans.yml: {issues[0].message}")
        self.contracts = tuple(_compile_contracts(table))
        self.addon = _single(table, PlanKind.ADDON)
        self.spot = _single(table, PlanKind.SPOT)
        self._addon_prices = _unit_prices(table, self.addon)
        self._spot_prices = _unit_prices(table, self.spot)
        self._memo: dict[tuple[tuple[int, ...], bool, bool], tuple[_Entry, ...]] = {}

    # --- the search ----------------------------------------------------------------------

    def best(
        self, demands: tuple[int, ...], *, contract_vu: bool, contract_allowed: bool = True
    ) -> tuple[_Entry, ...]:
        """The `limit` cheapest schedules (as choice indexes) for the years in `demands`.

        `contract_vu`: every year needs a contract with version-ups.
        """
        key = (demands, contract_vu, contract_allowed)
        found = self._memo.get(key)
        if found is not None:
            return found
        candidates: list[_Entry] = []
        if contract_allowed:
            for index, contract in enumerate(self.contracts):
                if contract_vu and not contract.plan.minor_version_up:
                    continue
                cases = sum(demands[: contract.years])
                if not cases and not contract_vu:
                    continue  # a contract nobody needs: years without one cost nothing
                cost = self._contract_cost(contract, cases)
                if cost is not None:
                    self._extend(candidates, index, cost, demands[contract.years :], contract_vu,
                                 contract_allowed)
        if not contract_vu:
            cost = self._spot_cost(demands[0])
            if cost is not None:
                self._extend(candidates, _NO_CONTRACT, cost, demands[1:], contract_vu,
                             contract_allowed)
        candidates.sort()
        result = tuple(candidates[: self.limit])
        self._memo[key] = result
        return result

    def _extend(
        self,
        candidates: list[_Entry],
        choice: int,
        cost: tuple[int, int, int],
        rest: tuple[int, ...],
        contract_vu: bool,
        contract_allowed: bool,
    ) -> None:
        if not rest:
            candidates.append((cost[0], cost[1], (choice,)))
            return
        for incl, excl, choices in self.best(
            rest, contract_vu=contract_vu, contract_allowed=contract_allowed
        ):
            candidates.append((cost[0] + incl, cost[1] + excl, (choice, *choices)))

    def _contract_cost(self, contract: _Contract, cases: int) -> tuple[int, int, int] | None:
        """(incl, excl, add-on packs) of a contract segment with `cases` (None: impossible)."""
        packs = self.addon_packs(contract.plan.tickets, cases)
        if packs is None:
            return None
        incl, excl = contract.price_incl, contract.price_excl
        if packs:
            incl += packs * self._addon_prices[0]
            excl += packs * self._addon_prices[1]
        return incl, excl, packs

    def _spot_cost(self, cases: int) -> tuple[int, int, int] | None:
        """(incl, excl, spot packs) of a year without a contract (None: impossible)."""
        packs = self.spot_packs(cases)
        if packs is None:
            return None
        return packs * self._spot_prices[0], packs * self._spot_prices[1], packs

    def addon_packs(self, tickets: int, cases: int) -> int | None:
        """Add-on packs a contract with `tickets` needs for `cases` (None: none sold)."""
        deficit = cases - tickets
        if deficit <= 0:
            return 0
        if self.addon is None:
            return None
        return -(-deficit // self.addon.tickets)

    def spot_packs(self, cases: int) -> int | None:
        """Spot packs for `cases` in a year without a contract (None: none sold)."""
        if cases <= 0:
            return 0
        if self.spot is None:
            return None
        return -(-cases // self.spot.tickets)

    def span(self, choice: int, years_left: int) -> int:
        """Years of the need that a choice covers when `years_left` years remain."""
        if choice == _NO_CONTRACT:
            return 1
        return min(self.contracts[choice].years, years_left)

    def code(self, choice: int) -> str:
        """Plan code of a choice ("-" for a year without a contract)."""
        return "-" if choice == _NO_CONTRACT else self.contracts[choice].plan.code

    # --- answers -------------------------------------------------------------------------

    def find(self, need: Need) -> Answer:
        """The cheapest options for `need`, or an empty answer with the reason."""
        contract_vu = need.needs_contract_for_version_ups
        if contract_vu and not need.contract_allowed:
            return Answer(need, (), _reason_no_contract(need))
        notes = _notes(need)
        entries = self.best(
            need.demands, contract_vu=contract_vu, contract_allowed=need.contract_allowed
        )
        options = tuple(self.option(need.demands, choices) for _, _, choices in entries)
        if not options:
            return Answer(need, (), self._reason_nothing(need), notes)
        return Answer(need, options, "", notes)

    def option(self, demands: Sequence[int], choices: Sequence[int]) -> Option:
        """Build the option for a schedule of choice indexes."""
        segments: list[Segment] = []
        year = 1
        for choice in choices:
            segment = self.segment(demands, year, choice)
            segments.append(segment)
            year += segment.years
        return Option(
            tuple(segments),
            sum(s.price_excl for s in segments),
            sum(s.price_incl for s in segments),
        )

    def segment(self, demands: Sequence[int], start: int, choice: int) -> Segment:
        """The segment that starts at year `start` with this choice."""
        years = self.span(choice, len(demands) - start + 1)
        cases = sum(demands[start - 1 : start - 1 + years])
        if choice == _NO_CONTRACT:
            cost = self._spot_cost(cases)
            if cost is None:
                raise ValueError("no spot ticket in the price table")
            incl, excl, packs = cost
            spot = self.spot if packs else None
            unused = packs * spot.tickets - cases if spot else 0
            return Segment(start, None, 1, 0, cases, 0, spot, packs, unused, excl, incl, False)
        contract = self.contracts[choice]
        cost = self._contract_cost(contract, cases)
        if cost is None:
            raise ValueError("no add-on ticket in the price table")
        incl, excl, packs = cost
        bought = contract.plan.tickets + (packs * self.addon.tickets if packs and self.addon else 0)
        return Segment(
            start,
            contract.plan,
            years,
            contract.years - years,
            cases,
            contract.plan.tickets,
            self.addon if packs else None,
            packs,
            bought - cases,
            excl,
            incl,
            contract.plan.minor_version_up,
        )

    def _reason_nothing(self, need: Need) -> str:
        if not need.contract_allowed:
            return (
                "契約なしで使えるスポットチケットが料金表にないため、"
                "この条件に合う組み合わせはありません。"
            )
        return "料金表のプランでは、この条件をすべて満たす組み合わせがありません。"


def find_options(table: PlanTable, need: Need, *, limit: int = DEFAULT_LIMIT) -> Answer:
    """The `limit` cheapest options for `need` under `table` (see the module docstring)."""
    return Finder(table, limit=limit).find(need)


def _unit_prices(table: PlanTable, plan: Plan | None) -> tuple[int, int]:
    """(incl, excl) price of one item of `plan` (0, 0 when the table has none)."""
    if plan is None:
        return 0, 0
    return table.price_incl_tax(plan), plan.price_excl_tax


def _compile_contracts(table: PlanTable) -> list[_Contract]:
    """The contracts as whole years (`check_table_shape` has refused other validities)."""
    return [
        _Contract(plan, plan.validity_months // 12, plan.price_excl_tax,
                  table.price_incl_tax(plan))
        for plan in table.plans
        if plan.kind is PlanKind.CONTRACT
    ]


def _single(table: PlanTable, kind: PlanKind) -> Plan | None:
    """The one plan of `kind` (`check_table_shape` has refused several)."""
    return next((plan for plan in table.plans if plan.kind is kind), None)


def _notes(need: Need) -> tuple[str, ...]:
    notes = []
    if need.version_ups and need.product.minor_version_ups_without_contract:
        notes.append(
            f"{need.product.name}は、サポート契約がなくてもマイナーバージョンアップを利用できます。"
        )
    elif need.needs_contract_for_version_ups:
        notes.append(
            f"{need.product.name}でマイナーバージョンアップを受けるにはサポート契約が必要なため、"
            "すべての年を契約でカバーする組み合わせだけを示しています。"
        )
    return tuple(notes)


def _reason_no_contract(need: Need) -> str:
    return (
        f"{need.product.name}のマイナーバージョンアップはサポート契約に付属するため、"
        "契約なし(スポットチケットのみ)ではマイナーバージョンアップを受けられません。"
        "マイナーバージョンアップが必要な場合は、サポート契約をご検討ください。"
    )
