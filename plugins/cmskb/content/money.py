"""Yen figures of the price table, formatted as the site shows them (``88,000円``).

The renderer, the price placeholders of editors' text and the check of hand-typed
figures all use these, so a figure is computed and written one way only.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .model import Plan, PlanTable


def yen(amount: int | Decimal) -> str:
    """Format a yen amount as ``88,000円``."""
    return f"{int(amount):,}円"


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


def derivable_amounts(table: PlanTable) -> set[int]:
    """Every yen amount the site derives from the table (prices and per-ticket prices)."""
    amounts: set[int] = set()
    for plan in table.plans:
        incl = table.price_incl_tax(plan)
        amounts.update(
            (
                plan.price_excl_tax,
                incl,
                _share(incl, plan.tickets)[0],
                _share(plan.price_excl_tax, plan.tickets)[0],
            )
        )
    return amounts
