"""Yen figures of the price table, formatted as the site shows them (``88,000円``).

The renderer, the price placeholders of editors' text and the check of hand-typed
figures all use these, so a figure is computed and written one way only.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from cmskb.formats import number_ja

from .model import Plan, PlanTable


def yen(amount: int | Decimal) -> str:
    """Format a yen amount as ``88,000円``."""
    return f"{number_ja(int(amount))}円"


def _share(total: int, parts: int) -> tuple[int, bool]:
    """`total / parts` rounded half up to a whole yen, and whether that is exact."""
    each = Decimal(total) / parts
    rounded = each.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(rounded), rounded == each


def _approx(total: int, parts: int) -> str:
    value, exact = _share(total, parts)
    return yen(value) if exact else "約" + yen(value)


def per_ticket(table: PlanTable, plan: Plan) -> str:
    """Tax-included price of one ticket, ``11,000円`` or ``約9,778円`` when not exact."""
    return _approx(table.price_incl_tax(plan), plan.tickets)


def per_ticket_excl(plan: Plan) -> str:
    """Tax-excluded price of one ticket, ``10,000円`` or ``約9,333円`` when not exact."""
    return _approx(plan.price_excl_tax, plan.tickets)


def percent(rate: Decimal) -> str:
    """A rate as a percentage: ``Decimal("0.10")`` → ``10%``."""
    value = (rate * 100).normalize()
    return f"{value:f}%"


def per_ticket_value(table: PlanTable, plan: Plan) -> Fraction:
    """The exact tax-included price of one ticket of `plan` (for comparisons)."""
    return Fraction(table.price_incl_tax(plan), plan.tickets)


def by_per_ticket(table: PlanTable, plans: list[Plan] | None = None) -> list[Plan]:
    """`plans` (default: the whole table) from the lowest tax-included price per ticket up;
    equal prices keep table order."""
    chosen = list(table.plans) if plans is None else plans
    return sorted(chosen, key=lambda plan: per_ticket_value(table, plan))


def per_ticket_ranking(table: PlanTable) -> str:
    """Every plan, cheapest per ticket first: ``F(7,150円)、E(7,700円)、…`` (tax included)."""
    return "、".join(f"{plan.code}({per_ticket(table, plan)})" for plan in by_per_ticket(table))


def cheapest_per_ticket(table: PlanTable) -> str:
    """The plan(s) with the lowest tax-included price per ticket: ``「…」(F)``."""
    ranked = by_per_ticket(table)
    lowest = per_ticket_value(table, ranked[0])
    best = [p for p in ranked if per_ticket_value(table, p) == lowest]
    return "と".join(f"「{plan.name}」({plan.code})" for plan in best)


def amount_placeholders(table: PlanTable) -> dict[int, str]:
    """Yen amount -> the placeholder that shows it (prices and exact per-ticket prices).

    The first plan in table order wins; a tax-included price before a tax-excluded one.
    """
    found: dict[int, str] = {}
    for plan in table.plans:
        incl = table.price_incl_tax(plan)
        found.setdefault(incl, f"{{{{price_incl:{plan.code}}}}}")
        found.setdefault(plan.price_excl_tax, f"{{{{price_excl:{plan.code}}}}}")
        share, exact = _share(incl, plan.tickets)
        if exact:
            found.setdefault(share, f"{{{{per_ticket_incl:{plan.code}}}}}")
        share, exact = _share(plan.price_excl_tax, plan.tickets)
        if exact:
            found.setdefault(share, f"{{{{per_ticket_excl:{plan.code}}}}}")
    return found
