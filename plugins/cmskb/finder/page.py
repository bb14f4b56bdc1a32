"""The finder on the plans page: its HTML form and its precomputed data.

`finder_assets(content)` runs the exact search over the whole input range (every product,
version-ups needed or not, contract allowed or not, 1-5 years, 0-60 cases in the first
and in each later year) and writes the answers as a compact JSON file; the small script
`assets/plan-finder.js` only looks answers up and shows them: it holds no rule of the
price table. The rules the answers rest on (plans.yml `rules`) are stated in the form,
one sentence each, with the tickets-per-case rule next to the case counts.

Inputs that give the same answer share it: products differ only in whether version-ups
need a contract, and with one year the later-year count does not matter. Each answer is
an index into a table of answer lists (purchase schedules); the Japanese text and the
figures of each period of a schedule are stored once, keyed by what it buys, its start
year, its years, its case count and (overlapping contracts only) what it holds from
earlier periods. The script adds up the year counts to find a period's key and adds up
the periods' figures for an option's totals; everything else is looked up.
"""

from __future__ import annotations

import functools
import json
from html import escape
from importlib import resources

from ..content.model import Content, PlanTable, Product
from .catalog import NOTHING
from .explain import assumptions, describe_segment
from .search import MAX_YEARS, RUNNER_UP_PERCENT, Finder, Need, Schedule, Segment

PRECOMPUTED_CASES = 60
DATA_PATH = "assets/plan-finder.json"
SCRIPT_PATH = "assets/plan-finder.js"
STYLE_PATH = "assets/plan-finder.css"
# relative to the plans page (/plans/), so the site also works under a sub-path
_FROM_PLANS_PAGE = "../"
DATA_VERSION = 2

# table of each mode: contract allowed? version-ups only by contract?
_MODES = ((True, False), (True, True), (False, False))


def finder_markup(content: Content) -> str:
    """The finder's HTML block for the plans page (/plans/), without blank lines.

    The form stays hidden until the script runs; without JavaScript the <noscript> line
    points to the price table and the guide. Stable ids: ``plan-finder`` (wrapper, its
    ``data-src`` is the JSON), ``pf-form``, ``pf-product``, ``pf-vu-yes``/``pf-vu-no``,
    ``pf-contract-yes``/``pf-contract-no``, ``pf-years``, ``pf-first-year``,
    ``pf-later-years``, ``pf-ticket-rule``, ``pf-rules`` (the rules the answers rest on),
    ``pf-submit``, ``pf-status`` (live region), ``pf-result``.
    """
    rules = content.plans.rules
    products = "".join(
        f'<option value="{escape(p.id)}">{escape(p.name)}</option>' for p in content.site.products
    )
    years = "".join(
        f'<option value="{y}"{" selected" if y == 3 else ""}>{y}年</option>'
        for y in range(1, MAX_YEARS + 1)
    )
    # text, not number: a number input drops the full-width digits a Japanese IME types
    cases = (
        'inputmode="numeric" pattern="[0-9０-９]{1,3}" maxlength="3" autocomplete="off" '
        'required aria-describedby="pf-cases-hint pf-ticket-rule"'
    )
    stated = "".join(
        f"<li>{escape(line)}</li>" for line in assumptions(content.plans, content.site.products)
    )
    lines = [
        f'<div id="plan-finder" class="kb-finder" data-src="{_FROM_PLANS_PAGE}{DATA_PATH}">',
        # a stylesheet link is allowed in the body (body-ok); the theme's CSS stays untouched
        f'<link rel="stylesheet" href="{_FROM_PLANS_PAGE}{STYLE_PATH}">',
        '<form id="pf-form" class="kb-finder__form" hidden novalidate>',
        '<p id="pf-intro">ライセンスと、チケットを使うお問い合わせ・ご依頼の見込み件数を入れると、'
        "条件を満たすいちばん安い購入の組み合わせを表示します(差が"
        f"{RUNNER_UP_PERCENT}%以内の次点があれば、あわせて表示します)。</p>",
        '<p class="kb-finder__field"><label for="pf-product">お使いのライセンス</label> '
        f'<select id="pf-product" name="product">{products}</select></p>',
        '<fieldset id="pf-version-ups"><legend>マイナーバージョンアップ</legend>',
        '<input type="radio" id="pf-vu-yes" name="version_ups" value="yes" checked> '
        '<label for="pf-vu-yes">必要</label>',
        '<input type="radio" id="pf-vu-no" name="version_ups" value="no"> '
        '<label for="pf-vu-no">不要</label>',
        "</fieldset>",
        '<fieldset id="pf-contract"><legend>サポート契約</legend>',
        '<input type="radio" id="pf-contract-yes" name="contract" value="yes" checked> '
        '<label for="pf-contract-yes">契約してもよい</label>',
        '<input type="radio" id="pf-contract-no" name="contract" value="no"> '
        '<label for="pf-contract-no">契約しない(スポットチケットのみ)</label>',
        "</fieldset>",
        '<p class="kb-finder__field"><label for="pf-years">検討する期間</label> '
        f'<select id="pf-years" name="years">{years}</select></p>',
        '<fieldset id="pf-cases">'
        "<legend>チケットを使うお問い合わせ・ご依頼の見込み件数(案件の数)</legend>",
        '<p class="kb-finder__field"><label for="pf-first-year">1年目(件)</label> '
        f'<input type="text" id="pf-first-year" name="first_year" value="10" {cases}></p>',
        '<p class="kb-finder__field"><label for="pf-later-years">2年目以降の1年あたり(件)</label> '
        f'<input type="text" id="pf-later-years" name="later_years" value="5" {cases}></p>',
        f'<p id="pf-cases-hint">それぞれ0〜{PRECOMPUTED_CASES}件の整数で入力してください。'
        "期間が1年のときは2年目以降の件数は使いません。</p>",
        f'<p id="pf-ticket-rule">{escape(rules.ticket_rule)}'
        f"この診断では、1案件につき{rules.tickets_per_case}チケットとして計算します。</p>",
        "</fieldset>",
        '<div id="pf-rules" class="kb-finder__rules"><p>この診断は、次の前提で計算します。</p>'
        f"<ul>{stated}</ul></div>",
        '<p><button type="submit" id="pf-submit" class="md-button md-button--primary">'
        "プランを探す</button></p>",
        "</form>",
        '<p id="pf-status" class="kb-finder__status" role="status" aria-live="polite"></p>',
        '<div id="pf-result" class="kb-finder__result"></div>',
        '<noscript><p id="pf-noscript">プランの自動診断には JavaScript を使います。'
        '<a href="#price-table">料金表</a>と<a href="guide/">プランの選び方</a>をご覧ください。'
        "</p></noscript>",
        f'<script src="{_FROM_PLANS_PAGE}{SCRIPT_PATH}" defer></script>',
        "</div>",
    ]
    return "\n".join(lines) + "\n"


def finder_assets(content: Content) -> dict[str, str]:
    """Site-relative path -> text of the finder's files (JSON data, script, stylesheet)."""
    files = resources.files(__package__).joinpath("assets")
    return {
        DATA_PATH: finder_json(content),
        SCRIPT_PATH: files.joinpath("plan-finder.js").read_text("utf-8"),
        STYLE_PATH: files.joinpath("plan-finder.css").read_text("utf-8"),
    }


def finder_json(content: Content) -> str:
    """The precomputed answers as compact JSON (see plan-finder.js for the layout)."""
    return _finder_json(content.plans, content.site.products)


# The answers depend only on the price table and the products (both frozen, hashable): a
# `mkdocs serve` rebuild with an unchanged table reuses the text instead of searching again.
@functools.lru_cache(maxsize=2)
def _finder_json(plans: PlanTable, products: tuple[Product, ...]) -> str:
    return json.dumps(_answers_data(plans, products, PRECOMPUTED_CASES), ensure_ascii=False,
                      separators=(",", ":"))


def finder_data(content: Content, *, max_cases: int = PRECOMPUTED_CASES) -> dict[str, object]:
    """The precomputed answers as plain data (see `_answers_data` for the layout)."""
    return _answers_data(content.plans, content.site.products, max_cases)


def _answers_data(
    plans: PlanTable, products: tuple[Product, ...], max_cases: int
) -> dict[str, object]:
    """The precomputed answers as plain data.

    Layout: ``q[mode][years-1][first][later]`` is an index into ``lists``; with one year
    ``later`` is always 0. A list holds indexes into ``shapes``, best first (the runner-up
    only when within the margin). A shape is a purchase schedule by period:
    ``[[code, start, years, held], ...]`` (code ``-`` for a year without a contract, ``=``
    for a period that buys nothing new; ``years`` counts the years of the need it covers;
    ``held`` is "" unless contracts overlap). The text and figures of a period are
    ``segs[key]`` with ``key = f"{code}{start}-{years}:{cases}{held}"``, ``cases`` being
    the cases expected in those years; a period is ``[period, purchase, price, why,
    incl, excl, add-ons, spots, unused, purchases]``; an option's totals are the sums
    over its periods. ``products[id].answers`` holds, for version-ups no/yes x contract
    allowed yes/no, ``[mode, notes, reason]``; mode -1: nothing fits.
    """
    finder = Finder(plans)
    tables = _Tables(finder)
    q = [
        _mode_table(finder, tables, contract_allowed, contract_vu, max_cases)
        for contract_allowed, contract_vu in _MODES
    ]
    by_id = {}
    for product in products:
        entries = []
        for version_ups in (False, True):
            for contract_allowed in (True, False):
                need = Need(product, version_ups, 1, 0, 0, contract_allowed)
                answer = finder.find(need)
                entries.append([
                    mode_of(finder, need),
                    list(answer.notes),
                    "" if answer.options else answer.reason,
                ])
        by_id[product.id] = {"name": product.name, "answers": entries}
    return {
        "version": DATA_VERSION,
        "maxYears": MAX_YEARS,
        "maxCases": max_cases,
        "margin": RUNNER_UP_PERCENT,
        "products": by_id,
        "shapes": tables.shapes,
        "lists": tables.lists,
        "segs": tables.segments,
        "q": q,
    }


def mode_of(finder: Finder, need: Need) -> int:
    """Which precomputed table answers `need` (-1: no option can fit)."""
    key = (need.contract_allowed, finder.contract_vu(need))
    return _MODES.index(key) if key in _MODES else -1


def segment_key(code: str, start: int, years: int, cases: int, held: str = "") -> str:
    """Key of a period's text and figures in ``segs``."""
    return f"{code}{start}-{years}:{cases}{held}"


class _Tables:
    """Deduplicating tables of shapes, shape lists and period texts."""

    def __init__(self, finder: Finder) -> None:
        self.finder = finder
        self.shapes: list[list[list[object]]] = []
        self.lists: list[list[int]] = []
        self.segments: dict[str, list[object]] = {}
        self._shape_ids: dict[tuple[tuple[str, int, int, str], ...], int] = {}
        self._list_ids: dict[tuple[int, ...], int] = {}

    def answer(self, cases: tuple[int, ...], schedules: list[Schedule], contract_vu: bool,
               contract_allowed: bool) -> int:
        key = tuple(self._shape(cases, s, contract_vu, contract_allowed) for s in schedules)
        found = self._list_ids.get(key)
        if found is None:
            found = self._list_ids[key] = len(self.lists)
            self.lists.append(list(key))
        return found

    def _shape(self, cases: tuple[int, ...], schedule: Schedule, contract_vu: bool,
               contract_allowed: bool) -> int:
        steps = self._chain_steps(cases, schedule) if schedule.chain is not None else None
        if steps is None or any(key not in self.segments for key, _ in steps):
            purchases = self.finder.purchases(schedule, len(cases))
            option = self.finder.option(cases, purchases, schedule.draws,
                                        contract_vu=contract_vu,
                                        contract_allowed=contract_allowed)
            steps = []
            for segment in option.segments:
                key = segment_key(segment.code, segment.start, segment.years, segment.cases,
                                  segment.context)
                self.segments.setdefault(key, _segment_row(segment))
                steps.append((key, (segment.code, segment.start, segment.years,
                                    segment.context)))
        shape = tuple(step for _, step in steps)
        found = self._shape_ids.get(shape)
        if found is None:
            found = self._shape_ids[shape] = len(self.shapes)
            self.shapes.append([list(step) for step in shape])
        return found

    def _chain_steps(
        self, cases: tuple[int, ...], schedule: Schedule
    ) -> list[tuple[str, tuple[str, int, int, str]]]:
        """The periods of a chain, read off its links: with contracts one after another a
        period's figures depend only on its key, so only new keys need a replay."""
        assert schedule.chain is not None
        contracts = self.finder.catalog.contracts
        steps = []
        year = 1
        for choice in schedule.chain:
            span = self.finder.span(choice, len(cases) - year + 1)
            code = "-" if choice == NOTHING else contracts[choice].plan.code
            total = sum(cases[year - 1 : year - 1 + span])
            steps.append((segment_key(code, year, span, total), (code, year, span, "")))
            year += span
        return steps


def _segment_row(segment: Segment) -> list[object]:
    text = describe_segment(segment)
    purchases = len(segment.bought) + segment.addons + segment.spots
    return [text.period, text.purchase, text.price, text.why, segment.price_incl,
            segment.price_excl, segment.addons, segment.spots, segment.unused, purchases]


def _mode_table(
    finder: Finder, tables: _Tables, contract_allowed: bool, contract_vu: bool, max_cases: int
) -> list[list[list[int]]]:
    by_years = []
    for years in range(1, MAX_YEARS + 1):
        by_first = []
        for first in range(max_cases + 1):
            row = []
            for later in range(max_cases + 1) if years > 1 else range(1):
                cases = (first,) + (later,) * (years - 1)
                schedules = finder.schedules(cases, contract_vu=contract_vu,
                                             contract_allowed=contract_allowed)
                row.append(tables.answer(cases, schedules, contract_vu, contract_allowed))
            by_first.append(row)
        by_years.append(by_first)
    return by_years
