"""What reviewers read instead of raw codes: field labels, choice names and product names.

Labels come from the public forms themselves (forms_app.forms), so a field renamed there is
renamed here; product names come from the app's product list (content/site.yml).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from wtforms import TextAreaField
from wtforms.fields.core import UnboundField

from forms_app.public.forms import KIND_CHOICES, TARGET_CHOICES, DocsRequestForm, FeedbackForm

# "(任意)", "(問題報告の場合は必須)": hints for customers, noise for staff.
_NOTE = re.compile(r"[((][^()()]*[))]\s*$")
_CHOICES = {
    "kind": {c.value: c.label for c in KIND_CHOICES},
    "target": {c.value: c.label for c in TARGET_CHOICES},
}
_FORMS = {"feedback": FeedbackForm, "docs": DocsRequestForm}


@cache
def field_labels(form: str) -> tuple[tuple[str, str], ...]:
    """(field name, Japanese label) of a form's fields, in the form's order."""
    cls = _FORMS.get(form)
    if cls is None:
        return ()
    unbound = [
        (name, value) for name in dir(cls)
        if isinstance(value := getattr(cls, name, None), UnboundField)
    ]
    unbound.sort(key=lambda pair: pair[1].creation_counter)
    out = []
    for name, field in unbound:
        label = field.args[0] if field.args else field.kwargs.get("label", name)
        out.append((name, _NOTE.sub("", str(label)).strip() or name))
    return tuple(out)


@cache
def multiline_fields() -> frozenset[str]:
    """Names of the fields people type several lines into (text areas), in either form."""
    return frozenset(
        name for cls in _FORMS.values() for name in dir(cls)
        if isinstance(value := getattr(cls, name, None), UnboundField)
        and issubclass(value.field_class, TextAreaField)
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
