"""Typed model of the editors' YAML content.

Plain frozen dataclasses: the loader builds them from validated YAML, the renderer,
the MkDocs adapter, the plan finder and the forms sidecar read them. Nothing here
imports mkdocs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Source:
    """Where a value came from: file (relative to the content root) and 1-based line."""

    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Product:
    """A licensed product: `id` is ASCII (e.g. ``cloud``), `name` is shown (CMSKITクラウド)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class FormLinks:
    """Where the sidecar's pages live, relative to the site root."""

    base: str = "/forms/"
    feedback: str = "/forms/feedback/"
    docs_request: str = "/forms/docs-request/"
    status: str = "/forms/status/"


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """content/site.yml."""

    name: str
    description: str
    products: tuple[Product, ...]
    support_hours: str
    forum_url: str
    forms: FormLinks
    source: Source
    tagline: str | None = None  # the support page's title line (そこまでやるか!...)
    mission: str | None = None  # the support team's mission sentence
    popular: tuple[str, ...] = ()  # question ids the home page lists (editors' picks)

    def product(self, product_id: str) -> Product:
        """The product with this id (KeyError if none)."""
        for product in self.products:
            if product.id == product_id:
                return product
        raise KeyError(product_id)


class Rounding(StrEnum):
    """How a tax-included yen amount is rounded to a whole yen."""

    FLOOR = "floor"
    HALF_UP = "half_up"
    CEIL = "ceil"

    @property
    def decimal_mode(self) -> str:
        """The `decimal` rounding mode of this rule."""
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: dict[Rounding, str] = {
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.CEIL: ROUND_CEILING,
}


@dataclass(frozen=True, slots=True)
class TaxRule:
    """Consumption tax: rate as a Decimal (0.10) and the rounding of the total."""

    rate: Decimal
    rounding: Rounding

    def including(self, yen_excl_tax: int) -> int:
        """Tax-included price in whole yen for a tax-excluded amount."""
        total = Decimal(yen_excl_tax) * (Decimal(1) + self.rate)
        return int(total.quantize(Decimal(1), rounding=self.rounding.decimal_mode))


class PlanKind(StrEnum):
    """What a row of the price table is."""

    CONTRACT = "contract"  # a support contract (A-G): validity, tickets, version-ups
    ADDON = "addon"  # add-on ticket (H): only with an annual contract
    SPOT = "spot"  # spot ticket (I): only without a contract


class Audience(StrEnum):
    """Who may buy a plan."""

    ANYONE = "anyone"
    CONTRACT_HOLDERS = "contract_holders"
    NON_CONTRACT_HOLDERS = "non_contract_holders"


@dataclass(frozen=True, slots=True)
class Plan:
    """One row of the price table (content/plans.yml)."""

    code: str  # サポート種別, one capital letter
    name: str
    kind: PlanKind
    validity_months: int
    minor_version_up: bool
    tickets: int
    price_excl_tax: int
    available_to: Audience
    description: str
    source: Source

    @property
    def validity_label(self) -> str:
        """Japanese label of the validity: 1年, 5年, 1ヶ月."""
        if self.validity_months % 12 == 0:
            return f"{self.validity_months // 12}年"
        return f"{self.validity_months}ヶ月"


class AddonRule(StrEnum):
    """Under which contracts add-on tickets (kind ``addon``) may be bought."""

    ANY_CONTRACT = "any_contract"  # any contract of the table
    ONE_YEAR_CONTRACTS = "one_year_contracts"  # only while a 12-month contract runs


DEFAULT_TICKET_RULE = "1案件ごとに所定のサポートチケットが必要です。"
MAX_CONTRACTS_AT_ONCE = 3


@dataclass(frozen=True, slots=True)
class FinderRules:
    """The readings of the price table that the plan finder rests on (plans.yml `rules`).

    `ticket_rule` is the one sentence of content that states how many tickets a case
    takes; `tickets_per_case` is the number the finder computes with.
    """

    tickets_per_case: int = 1
    ticket_rule: str = DEFAULT_TICKET_RULE
    contracts_at_once: int = 1  # 1: contracts follow one another; more: they may overlap
    addon_tickets_with: AddonRule = AddonRule.ANY_CONTRACT
    version_ups_without_contract: tuple[str, ...] = ()  # product ids

    def version_ups_need_contract(self, product: Product) -> bool:
        """True when this product gets minor version-ups only with a contract."""
        return product.id not in self.version_ups_without_contract


@dataclass(frozen=True, slots=True)
class PlanTable:
    """content/plans.yml: the tax rule, the plans in table order, the notes and the rules."""

    tax: TaxRule
    plans: tuple[Plan, ...]
    notes: tuple[str, ...]
    source: Source
    rules: FinderRules = FinderRules()

    def plan(self, code: str) -> Plan:
        """The plan with this code (KeyError if none)."""
        for plan in self.plans:
            if plan.code == code:
                return plan
        raise KeyError(code)

    def price_incl_tax(self, plan: Plan) -> int:
        return self.tax.including(plan.price_excl_tax)


@dataclass(frozen=True, slots=True)
class RecommendationCase:
    """One situation of the recommendation guide and the plans it recommends."""

    id: str
    situation: str
    plans: tuple[str, ...]  # plan codes
    reason: str
    source: Source


@dataclass(frozen=True, slots=True)
class TicketExamples:
    """content/ticket-examples.yml: what consumes a ticket."""

    inquiries: tuple[str, ...]
    solutions: tuple[str, ...]
    notes: tuple[str, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """A named service of the free or paid tier (e.g. 【ニュース】)."""

    title: str
    description: str


@dataclass(frozen=True, slots=True)
class FreeSupport:
    summary: str
    services: tuple[ServiceItem, ...]
    eligibility: str
    not_included: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PaidSupport:
    summary: str
    services: tuple[ServiceItem, ...]
    channels: tuple[str, ...]
    conditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SupportTerms:
    """content/support.yml: free-support scope and eligibility, paid-support conditions."""

    free: FreeSupport
    paid: PaidSupport
    source: Source


@dataclass(frozen=True, slots=True)
class Category:
    """An FAQ category (content/faq/categories.yml); its questions live in content/faq/<id>/."""

    id: str
    title: str
    description: str
    source: Source


@dataclass(frozen=True, slots=True)
class Question:
    """One FAQ entry: content/faq/<category>/<id>.yml."""

    id: str
    category: str
    question: str
    answer: str  # Markdown
    products: tuple[str, ...]  # product ids
    tags: tuple[str, ...]
    related: tuple[str, ...]  # question ids
    updated: dt.date
    draft: bool
    source: Source
    keywords: tuple[str, ...] = ()  # words readers may search by that the text lacks


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """content/search.yml: how the site's search reads queries, and what it leaves out."""

    synonyms: tuple[tuple[str, ...], ...] = ()  # each group: words that mean the same
    exclude: tuple[str, ...] = ()  # site paths (``/editors/``) kept out of the search


class BasisKind(StrEnum):
    """What a news item rests on (its `source` field)."""

    SEED = "seed"  # the support-service page of the company; quoted in `quote`
    SITE = "site"  # this support site itself: its pages, forms, questions
    GENERIC = "generic"  # true of any CMS support desk


@dataclass(frozen=True, slots=True)
class Basis:
    """The `source` of a news item: its kind and, for ``seed``, the words it rests on."""

    kind: BasisKind
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One news item: content/news/<id>.yml."""

    id: str
    date: dt.date
    title: str
    body: str  # Markdown
    category: str | None
    source: Source
    basis: Basis | None = None  # required in the YAML (`source`); None only for built-in-code items
    important: bool = False  # shown with a 重要 badge on home, the news index and its page


def newest_first(items: Iterable[NewsItem]) -> list[NewsItem]:
    """News newest first; items of the same day by id, descending (the one order everywhere)."""
    return sorted(items, key=lambda n: (n.date, n.id), reverse=True)


@dataclass(frozen=True, slots=True)
class Content:
    """Everything under content/, validated.

    `questions` holds every entry, drafts included; pages use `published_questions`.
    """

    site: SiteSettings
    plans: PlanTable
    recommendations: tuple[RecommendationCase, ...]
    ticket_examples: TicketExamples
    support: SupportTerms
    categories: tuple[Category, ...]
    questions: tuple[Question, ...]
    news: tuple[NewsItem, ...]  # newest first
    search: SearchSettings = field(default_factory=SearchSettings)

    @property
    def published_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if not q.draft)

    def questions_in(self, category_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if not q.draft and q.category == category_id)
