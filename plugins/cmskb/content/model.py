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
    minor_version_ups_without_contract: bool = False  # true for CMSKITクラウド


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


@dataclass(frozen=True, slots=True)
class PlanTable:
    """content/plans.yml: the tax rule, the plans in table order and the notes."""

    tax: TaxRule
    plans: tuple[Plan, ...]
    notes: tuple[str, ...]
    source: Source

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


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One news item: content/news/<id>.yml."""

    id: str
    date: dt.date
    title: str
    body: str  # Markdown
    category: str | None
    source: Source


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
