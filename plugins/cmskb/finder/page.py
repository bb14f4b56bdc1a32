"""The finder on the plans page: its HTML form and its precomputed data.

`finder_assets(content)` runs the exact search over the whole input range (every product,
version-ups needed or not, contract allowed or not, 1-5 years, 0-60 cases in the first
and in each later year) and writes the answers as a compact JSON file; the small script
`assets/plan-finder.js` only looks answers up and shows them: it holds no rule of the
price table. Inputs that give the same answer share it: products differ only in whether
version-ups need a contract, and with one year the later-year count does not matter.
Each answer is an index into a table of answer lists (purchase schedules); the Japanese
text and the figures of each step of a schedule are stored once, keyed by plan, start
year, years and case count. The script adds up the year counts to find a step's key and
adds up the steps' figures for an option's totals; everything else is looked up.
"""

from __future__ import annotations

import functools
import json
from html import escape
from importlib import resources

from ..content.model import Content, PlanTable, Product
from .explain import describe_segment
from .search import MAX_YEARS, Finder, Need, Segment

PRECOMPUTED_CASES = 60
DATA_PATH = "assets/plan-finder.json"
SCRIPT_PATH = "assets/plan-finder.js"
STYLE_PATH = "assets/plan-finder.css"
# relative to the plans page (/plans/), so the site also works under a sub-path
_FROM_PLANS_PAGE = "../"
DATA_VERSION = 1

# table of each mode: contract allowed? version-ups only by contract?
_MODES = ((True, False), (True, True), (False, False))


def finder_markup(content: Content) -> str:
    """The finder's HTML block for the plans page (/plans/), without blank lines.

    The form stays hidden until the script runs; without JavaScript the <noscript> line
    points to the price table and the guide. Stable ids: ``plan-finder`` (wrapper, its
    ``data-src`` is the JSON), ``pf-form``, ``pf-product``, ``pf-vu-yes``/``pf-vu-no``,
    ``pf-contract-yes``/``pf-contract-no``, ``pf-years``, ``pf-first-year``,
    ``pf-later-years``, ``pf-submit``, ``pf-status`` (live region), ``pf-result``.
    """
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
        'required aria-describedby="pf-cases-hint"'
    )
    lines = [
        f'<div id="plan-finder" class="kb-finder" data-src="{_FROM_PLANS_PAGE}{DATA_PATH}">',
        # a stylesheet link is allowed in the body (body-ok); the theme's CSS stays untouched
        f'<link rel="stylesheet" href="{_FROM_PLANS_PAGE}{STYLE_PATH}">',
        '<form id="pf-form" class="kb-finder__form" hidden novalidate>',
        '<p id="pf-intro">ライセンスと、チケットを使うお問い合わせ・ご依頼の見込み件数を入れると、'
        "条件を満たす購入の組み合わせを安い順に表示します(1件につき1チケットを使います)。</p>",
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
        "<legend>チケットを使う見込みの件数</legend>",
        '<p class="kb-finder__field"><label for="pf-first-year">1年目(件)</label> '
        f'<input type="text" id="pf-first-year" name="first_year" value="10" {cases}></p>',
        '<p class="kb-finder__field"><label for="pf-later-years">2年目以降の1年あたり(件)</label> '
        f'<input type="text" id="pf-later-years" name="later_years" value="5" {cases}></p>',
        f'<p id="pf-cases-hint">それぞれ0〜{PRECOMPUTED_CASES}件の整数で入力してください'
        "(1件につき1チケット)。期間が1年のときは2年目以降の件数は使いません。</p>",
        "</fieldset>",
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
    ``later`` is always 0. A list holds indexes into ``shapes``, cheapest first. A shape
    is the purchase schedule: ``[[code, start, years], ...]`` (code ``-`` for a year
    without a contract; ``years`` counts the years of the need it covers). The text and
    figures of a step are ``segs[key]`` with ``key = f"{code}{start}-{years}:{cases}"``,
    ``cases`` being the cases expected in those years; a segment is
    ``[period, purchase, price, why, incl, excl, add-ons, spots, unused]``; an option's
    totals are the sums over its steps. ``products[id].answers`` holds, for version-ups
    no/yes x contract allowed yes/no, ``[mode, notes, reason]``; mode -1: nothing fits.
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
                answer = finder.find(Need(product, version_ups, 1, 0, 0, contract_allowed))
                entries.append([
                    mode_of(answer.need),
                    list(answer.notes),
                    "" if answer.options else answer.reason,
                ])
        by_id[product.id] = {"name": product.name, "answers": entries}
    return {
        "version": DATA_VERSION,
        "maxYears": MAX_YEARS,
        "maxCases": max_cases,
        "products": by_id,
        "shapes": tables.shapes,
        "lists": tables.lists,
        "segs": tables.segments,
        "q": q,
    }


def mode_of(need: Need) -> int:
    """Which precomputed table answers `need` (-1: no option can fit)."""
    key = (need.contract_allowed, need.needs_contract_for_version_ups)
    return _MODES.index(key) if key in _MODES else -1


def segment_key(code: str, start: int, years: int, cases: int) -> str:
    """Key of a step's text and figures in ``segs``."""
    return f"{code}{start}-{years}:{cases}"


class _Tables:
    """Deduplicating tables of shapes, shape lists and step texts."""

    def __init__(self, finder: Finder) -> None:
        self.finder = finder
        self.shapes: list[list[list[object]]] = []
        self.lists: list[list[int]] = []
        self.segments: dict[str, list[object]] = {}
        self._shape_ids: dict[tuple[tuple[str, int, int], ...], int] = {}
        self._list_ids: dict[tuple[int, ...], int] = {}

    def answer(self, demands: tuple[int, ...], schedules: list[tuple[int, ...]]) -> int:
        key = tuple(self._shape(demands, choices) for choices in schedules)
        found = self._list_ids.get(key)
        if found is None:
            found = self._list_ids[key] = len(self.lists)
            self.lists.append(list(key))
        return found

    def _shape(self, demands: tuple[int, ...], choices: tuple[int, ...]) -> int:
        steps = []
        start = 1
        last = len(demands)
        for choice in choices:
            span = self.finder.span(choice, last - start + 1)
            code = self.finder.code(choice)
            cases = sum(demands[start - 1 : start - 1 + span])
            steps.append((code, start, span))
            seg_key = segment_key(code, start, span, cases)
            if seg_key not in self.segments:
                self.segments[seg_key] = _segment_row(self.finder.segment(demands, start, choice))
            start += span
        key = tuple(steps)
        found = self._shape_ids.get(key)
        if found is None:
            found = self._shape_ids[key] = len(self.shapes)
            self.shapes.append([list(step) for step in steps])
        return found


def _segment_row(segment: Segment) -> list[object]:
    text = describe_segment(segment)
    addons = segment.extra_count if segment.plan is not None else 0
    spots = segment.extra_count if segment.plan is None else 0
    return [text.period, text.purchase, text.price, text.why, segment.price_incl,
            segment.price_excl, addons, spots, segment.unused]


def _mode_table(
    finder: Finder, tables: _Tables, contract_allowed: bool, contract_vu: bool, max_cases: int
) -> list[list[list[int]]]:
    by_years = []
    for years in range(1, MAX_YEARS + 1):
        by_first = []
        for first in range(max_cases + 1):
            row = []
            for later in range(max_cases + 1) if years > 1 else range(1):
                demands = (first,) + (later,) * (years - 1)
                entries = finder.best(demands, contract_vu=contract_vu,
                                      contract_allowed=contract_allowed)
                row.append(tables.answer(demands, [choices for _, _, choices in entries]))
            by_first.append(row)
        by_years.append(by_first)
    return by_years
