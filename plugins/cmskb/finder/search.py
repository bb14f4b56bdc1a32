"""Exact search for the cheapest support purchases that cover a customer's need.

The model (the price table made precise; what the seed leaves open is a rule of
plans.yml ``rules``, see `content.model.FinderRules`, and is stated in every answer):

- A need is a product (license), whether minor version-ups are needed, a number of years
  ``Y`` (1-5) and the cases expected in the first year and in each later year. A case
  takes ``rules.tickets_per_case`` tickets. Time is counted in whole years from the start
  of the need; every purchase happens at the start of a year.
- A contract of ``12*L`` months bought at the start of year ``k`` covers years
  ``k .. k+L-1``; it may run past year ``Y`` (its full price counts). At most
  ``rules.contracts_at_once`` contracts run in any year (1: they follow one another).
  A contract's tickets serve any case of the years it covers and expire with it; the
  tickets that expire soonest are used first.
- Add-on tickets (kind ``addon``) are bought in a year some contract runs (with
  ``rules.addon_tickets_with: one_year_contracts``, a 1-year contract), for that year.
  Spot tickets (kind ``spot``) are bought in a year no contract runs. Both are sold one
  by one (the finder refuses a table that sells them in packs).
- A year has minor version-ups when a running contract brings them, or always for a
  product of ``rules.version_ups_without_contract``. When version-ups are needed, every
  year must have them. A customer may also say that no contract is wanted.
- Every contract bought serves a purpose when it is bought: version-ups are needed and
  no running contract brings them yet, or the tickets held do not cover the years it
  would cover (checked in table order when one year buys several). Anything else is
  never cheaper than leaving it out and would only crowd the list.
- Prices: the tax-excluded total is the sum of the table prices; the tax-included total
  the sum, line by line, of the table's tax-included unit prices (what a customer adds
  up from the price table).
- Ranking (`catalog.Cost`): tax-included total, tax-excluded total, fewest purchases
  (contracts + add-on + spot tickets), most tickets left over, then the contracts
  bought year by year in table order. The answer is the best schedule, and the next
  distinct one when its tax-included total is within `RUNNER_UP_PERCENT` % of the best.

Both searches are exact: `chain` (contracts follow one another) and `overlap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..content.model import Plan, PlanTable, Product
from .catalog import Catalog, Cost, FinderTableError
from .chain import ChainSearch
from .overlap import OverlapSearch
from .replay import Held, YearUse, replay

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_CASES",
    "MAX_YEARS",
    "RUNNER_UP_PERCENT",
    "Answer",
    "Finder",
    "FinderInputError",
    "FinderTableError",
    "Need",
    "Option",
    "Segment",
    "find_options",
]

MAX_YEARS = 5
MAX_CASES = 999  # what the search accepts; the site precomputes 0..PRECOMPUTED_CASES
DEFAULT_LIMIT = 2  # the best option and the runner-up
RUNNER_UP_PERCENT = 5


class FinderInputError(ValueError):
    """A need the finder cannot take; the message is Japanese, for the person asking."""


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


@dataclass(frozen=True, slots=True)
class Segment:
    """A period of a schedule as it is explained: years with the same contracts running.

    A period starts when contracts are bought, when the running contracts change, and at
    every year without a contract (one year each).
    """

    start: int  # 1-based year of the need
    years: int  # years of the need it covers
    bought: tuple[Plan, ...]  # contracts bought at its start
    running: tuple[Plan, ...]  # contracts bought earlier that still run in it
    extra_years: int  # years beyond the need of the contracts bought at its start
    cases: int  # cases expected in its years
    tickets: int  # tickets those cases need
    included: int  # tickets that come with the contracts bought at its start
    carried: int  # contract tickets held at its start, bought earlier
    addons: int
    spots: int
    unused: int  # contract tickets that expire unused in it
    price_incl: int
    price_excl: int
    version_ups: bool  # every year of it has minor version-ups through a contract
    extra_plan: Plan | None = None  # the add-on (with a contract) or spot plan bought
    context: str = ""  # what else decides its figures (overlapping contracts only)

    @property
    def end(self) -> int:
        """Last year of the need that this segment covers."""
        return self.start + self.years - 1

    @property
    def with_contract(self) -> bool:
        return bool(self.bought or self.running)

    @property
    def code(self) -> str:
        """The contracts bought ("-": no contract; "=": only contracts bought earlier)."""
        if self.bought:
            return "+".join(plan.code for plan in self.bought)
        return "=" if self.running else "-"


@dataclass(frozen=True, slots=True)
class Option:
    """A schedule of purchases that covers the need, year by year and by period."""

    years: tuple[YearUse, ...]
    segments: tuple[Segment, ...]
    total_excl: int
    total_incl: int

    @property
    def unused(self) -> int:
        return sum(year.expired for year in self.years)

    @property
    def addon_count(self) -> int:
        return sum(year.addons for year in self.years)

    @property
    def spot_count(self) -> int:
        return sum(year.spots for year in self.years)

    @property
    def purchase_count(self) -> int:
        return sum(year.cost.purchases for year in self.years)

    @property
    def bought(self) -> tuple[tuple[int, str], ...]:
        """(year, plan code) of every contract bought, in order."""
        return tuple((y.year, c.plan.code) for y in self.years for c in y.bought)

    @property
    def codes(self) -> tuple[str, ...]:
        """What each period buys (`Segment.code`)."""
        return tuple(segment.code for segment in self.segments)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A schedule as a search finds it: its cost, the contracts bought at the start of each
    year (indexes among the table's contracts) and the tickets each year draws (None:
    as many as there are). A chain (one contract at a time) keeps its links instead: a
    contract index or `catalog.NOTHING` (a year without a contract) each."""

    cost: Cost
    purchases: tuple[tuple[int, ...], ...] | None  # None: see `chain` (`Finder.purchases`)
    draws: tuple[int | None, ...] | None
    chain: tuple[int, ...] | None = None  # contracts following one another: the links


@dataclass(frozen=True, slots=True)
class Answer:
    """The best option first and the runner-up when close; `reason` says why there is none."""

    need: Need
    options: tuple[Option, ...]
    reason: str = ""
    notes: tuple[str, ...] = field(default=())


class Finder:
    """The search over one price table. Reuse one instance: it memoises sub-problems."""

    def __init__(self, table: PlanTable, *, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.table = table
        self.limit = limit
        self.catalog = Catalog.of(table)
        self.rules = table.rules
        self._chain = ChainSearch(self.catalog, limit)
        self._overlap = OverlapSearch(self.catalog, limit)

    def contract_vu(self, need: Need) -> bool:
        """True when the need's version-ups come only with a contract."""
        return need.version_ups and self.rules.version_ups_need_contract(need.product)

    def schedules(
        self, cases: tuple[int, ...], *, contract_vu: bool, contract_allowed: bool
    ) -> list[Schedule]:
        """The best schedules for `cases` per year: the first and those within
        `RUNNER_UP_PERCENT` % of it, at most `limit`."""
        needs = tuple(n * self.rules.tickets_per_case for n in cases)
        found: list[Schedule]
        if self.rules.contracts_at_once == 1:
            entries = self._chain.best(needs, contract_vu=contract_vu,
                                       contract_allowed=contract_allowed)
            found = [Schedule(Cost(*entry[:4]), None, None, entry[4]) for entry in entries]
        else:
            found = [
                Schedule(cost, tuple(tuple(bought) for bought, _ in path),
                         tuple(draw for _, draw in path))
                for cost, _, path in self._overlap.best(
                    needs, contract_vu=contract_vu, contract_allowed=contract_allowed)
            ]
        return found[:1] + [s for s in found[1:] if within_margin(s.cost.incl, found[0].cost.incl)]

    def purchases(self, schedule: Schedule, horizon: int) -> tuple[tuple[int, ...], ...]:
        """The contracts a schedule buys at the start of each year of `horizon` years."""
        if schedule.purchases is not None:
            return schedule.purchases
        assert schedule.chain is not None
        return self._chain.purchases(schedule.chain, horizon)

    def span(self, choice: int, years_left: int) -> int:
        """Years a link of a chain (`Schedule.chain`) covers when `years_left` remain."""
        return self._chain.span(choice, years_left)

    def find(self, need: Need) -> Answer:
        """The best option for `need` and the runner-up when close, or the reason for none."""
        contract_vu = self.contract_vu(need)
        notes = self.notes(need)
        if contract_vu and not need.contract_allowed:
            return Answer(need, (), _reason_no_contract(need), notes)
        options = tuple(
            self.option(need.demands, self.purchases(schedule, need.years), schedule.draws,
                        contract_vu=contract_vu, contract_allowed=need.contract_allowed)
            for schedule in self.schedules(
                need.demands, contract_vu=contract_vu, contract_allowed=need.contract_allowed
            )
        )
        if not options:
            return Answer(need, (), self._reason_nothing(need), notes)
        return Answer(need, options, "", notes)

    def option(
        self,
        cases: Sequence[int],
        purchases: Sequence[Sequence[int]],
        draws: Sequence[int | None] | None = None,
        *,
        contract_vu: bool,
        contract_allowed: bool = True,
    ) -> Option:
        """The option of a schedule (contracts bought per year, tickets drawn per year)."""
        years = replay(self.catalog, cases, purchases, draws, contract_vu=contract_vu,
                       contract_allowed=contract_allowed)
        if years is None:
            raise ValueError("the schedule breaks a rule of the price table")
        return Option(
            years,
            segments(years, len(cases), self.catalog),
            sum(y.cost.excl for y in years),
            sum(y.cost.incl for y in years),
        )

    def notes(self, need: Need) -> tuple[str, ...]:
        """What the answer assumes about this product's version-ups."""
        if not need.version_ups:
            return ()
        name = need.product.name
        if not self.contract_vu(need):
            return (f"{name}は、サポート契約がなくてもマイナーバージョンアップを"
                    "受けられるものとして計算しています。",)
        return (f"{name}のマイナーバージョンアップはサポート契約の期間中だけ受けられるものとして、"
                "すべての年を契約でカバーする組み合わせだけを示しています。",)

    def _reason_nothing(self, need: Need) -> str:
        if not need.contract_allowed:
            return (
                "契約なしで使えるスポットチケットが料金表にないため、"
                "この条件に合う組み合わせはありません。"
            )
        return "料金表のプランでは、この条件をすべて満たす組み合わせがありません。"


def within_margin(total: int, best: int) -> bool:
    """Whether a tax-included `total` is within `RUNNER_UP_PERCENT` % of the `best` one."""
    return total * 100 <= best * (100 + RUNNER_UP_PERCENT)


def find_options(table: PlanTable, need: Need, *, limit: int = DEFAULT_LIMIT) -> Answer:
    """The best option for `need` under `table` and the runner-up when close."""
    return Finder(table, limit=limit).find(need)


def segments(years: Sequence[YearUse], horizon: int, catalog: Catalog) -> tuple[Segment, ...]:
    """The periods of a schedule (see `Segment`)."""
    groups: list[list[YearUse]] = []
    for year in years:
        previous = groups[-1][-1] if groups else None
        if (
            previous is None
            or year.bought
            or not year.running
            or not previous.running
            or _codes(year.running) != _codes(previous.running)
        ):
            groups.append([year])
        else:
            groups[-1].append(year)
    return tuple(_segment(group, horizon, catalog) for group in groups)


def _codes(running: Sequence[Held]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((held.start, held.contract.index) for held in running))


def _segment(group: list[YearUse], horizon: int, catalog: Catalog) -> Segment:
    first = group[0]
    bought = first.bought
    earlier = tuple(held.contract for held in first.running if held.start < first.year)
    extra = max((first.year + c.years - 1 - horizon for c in bought), default=0)
    context = ""
    if earlier or first.carried:
        held = ",".join(f"{end}:{tickets}" for end, tickets in first.carried)
        context = f"|{'+'.join(c.plan.code for c in earlier)}|{held}"
    addons = sum(y.addons for y in group)
    spots = sum(y.spots for y in group)
    return Segment(
        start=first.year,
        years=len(group),
        bought=tuple(c.plan for c in bought),
        running=tuple(c.plan for c in earlier),
        extra_years=max(extra, 0),
        cases=sum(y.cases for y in group),
        tickets=sum(y.tickets for y in group),
        included=sum(c.tickets for c in bought),
        carried=sum(tickets for _, tickets in first.carried),
        addons=addons,
        spots=spots,
        unused=sum(y.expired for y in group),
        price_incl=sum(y.cost.incl for y in group),
        price_excl=sum(y.cost.excl for y in group),
        version_ups=all(y.version_ups for y in group),
        extra_plan=catalog.addon if addons else catalog.spot if spots else None,
        context=context,
    )


def _reason_no_contract(need: Need) -> str:
    return (
        f"{need.product.name}のマイナーバージョンアップはサポート契約に付属するものとして"
        "計算しているため、契約なし(スポットチケットのみ)ではマイナーバージョンアップを"
        "受けられません。マイナーバージョンアップが必要な場合は、サポート契約をご検討ください。"
    )

