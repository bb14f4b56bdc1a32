"""What reviewers read instead of raw codes: field labels, choice names and product names.

Labels come from the public forms themselves (forms_app.public.forms), so a field renamed there is
renamed here; product names come from the app's product list (content/site.yml).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from wtforms import TextAreaField

from forms_app.public.forms import KIND_CHOICES, TARGET_CHOICES, DocsRequestForm, FeedbackForm

# "(任意)", "(問題報告の場合は必須)": hints for customers, noise for staff.
_NOTE = re.compile(r"[((][^()()]*[))]\s*$")
_CHOICES = {
    "kind": {c.value: c.label for c in KIND_CHOICES},
    "target": {c.value: c.label for c in TARGET_CHOICES},
}
_FORMS = {"feedback": FeedbackForm, "docs": DocsRequestForm}


def _fields(form: str) -> list[Any]:
    """The bound fields of a request form, in the form's order (needs the app context)."""
    cls = _FORMS.get(form)
    return [] if cls is None else list(cls(formdata=None))


@cache
def field_labels(form: str) -> tuple[tuple[str, str], ...]:
    """(field name, Japanese label) of a form's fields, in the form's order."""
    return tuple(
        (field.name, _NOTE.sub("", str(field.label.text)).strip() or field.name)
        for field in _fields(form)
    )


@cache
def multiline_fields() -> frozenset[str]:
    """Names of the fields people type several lines into (text areas), in either form."""
    return frozenset(
        field.name for form in _FORMS for field in _fields(form)
        if isinstance(field, TextAreaField)
    )


def product_name(product: str | None, products: Sequence[tuple[str, str]]) -> str:
    if not product:
        return "-"
    return dict(products).get(product, product)


def field_rows(
    form: str, fields: Mapping[str, Any] | None, products: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(label, value) of every stored field: known fields in form order, then any others."""
    fields = dict(fields or {})
    rows = []
    for name, label in field_labels(form):
        if name in fields:
            rows.append((label, _value(name, fields.pop(name), products)))
    rows.extend((name, _value(name, value, products)) for name, value in fields.items())
    return rows


def _value(name: str, value: Any, products: Sequence[tuple[str, str]]) -> str:
    if value is None:
        return ""
    if name == "product":
        return product_name(str(value), products)
    text = str(value)
    shown: str = _CHOICES.get(name, {}).get(text, text)
    return shown
