"""Checks of the Markdown that editors write (answers, news bodies, plan texts).

- Price placeholders: ``{{price_incl:A}}`` and friends (`PLACEHOLDERS`) are replaced by
  figures computed from plans.yml when the content is loaded, so a price is written in
  one place only. An unknown placeholder or plan code is a problem.
- Hand-typed yen figures (``88,000円``) that no plan of plans.yml gives are problems: they
  are what goes stale when a price changes.
- Links: site-absolute links (``/faq/<id>/#anchor``) must reach a page and an anchor of
  the URL contract (`anchors.SiteMap`), as ``mkdocs build --strict`` would demand.

Every check returns `Issue`s with the line inside the file, for the loader to report.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import yaml

from .anchors import OPEN_PAGES, SITE_FILES, SiteMap, headings, mask_code
from .fields import line_of
from .model import Plan, PlanTable
from .money import (
    cheapest_per_ticket,
    per_ticket,
    per_ticket_excl,
    per_ticket_ranking,
    percent,
    yen,
)


@dataclass(frozen=True, slots=True)
class TextRef:
    """A Markdown value: its text, field path and the file line where the text starts."""

    text: str
    field: str
    line: int

    @classmethod
    def of(cls, node: yaml.Node | None, text: str | None, field: str) -> TextRef | None:
        if node is None or text is None:
            return None
        # A block scalar ("|" or ">") starts on the line after its indicator.
        style = getattr(node, "style", None)
        return cls(text, field, line_of(node) + (1 if style in ("|", ">") else 0))

    def line_at(self, offset: int) -> int:
        return self.line + self.text.count("\n", 0, offset)


@dataclass(frozen=True, slots=True)
class Issue:
    line: int
    message: str
    hint: str


# --- price placeholders --------------------------------------------------------------

PLAN_PLACEHOLDERS: dict[str, Callable[[PlanTable, Plan], str]] = {
    "price_incl": lambda table, plan: yen(table.price_incl_tax(plan)),
    "price_excl": lambda table, plan: yen(plan.price_excl_tax),
    "per_ticket_incl": per_ticket,
    "per_ticket_excl": lambda table, plan: per_ticket_excl(plan),
}
TABLE_PLACEHOLDERS: dict[str, Callable[[PlanTable], str]] = {
    "tax_rate": lambda table: percent(table.tax.rate),
    # computed comparisons: the only way to say which plan is cheaper per ticket
    "per_ticket_ranking": per_ticket_ranking,
    "cheapest_per_ticket": cheapest_per_ticket,
    # the one sentence of the tickets-per-case rule (plans.yml rules.ticket_rule)
    "ticket_rule": lambda table: table.rules.ticket_rule if table.rules else "",
}
# placeholders whose text compares plans: a sentence with one states a computed comparison
COMPARISON_PLACEHOLDERS = frozenset({"per_ticket_ranking", "cheapest_per_ticket"})
PLACEHOLDER_NAMES = (*PLAN_PLACEHOLDERS, *TABLE_PLACEHOLDERS)
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_PLACEHOLDER_BODY = re.compile(r"\s*([a-z_]+)\s*(?::\s*([A-Za-z0-9]*)\s*)?")
_PLACEHOLDER_HINT = (
    "使えるのは {{price_incl:A}}(税込価格)、{{price_excl:A}}(税別価格)、"
    "{{per_ticket_incl:A}}、{{per_ticket_excl:A}}(1チケットあたり)、{{tax_rate}}(税率)、"
    "{{per_ticket_ranking}}(1チケットあたりの安い順)、{{cheapest_per_ticket}}"
    "(1チケットあたりが最も安いプラン)、{{ticket_rule}}(チケットの必要枚数の規則)です。"
)


@dataclass(frozen=True, slots=True)
class PriceFigures:
    """The figure of every placeholder for one price table, computed once."""

    codes: tuple[str, ...]  # plan codes in table order
    values: dict[tuple[str, str | None], str]  # (name, plan code or None) -> figure

    @classmethod
    def of(cls, table: PlanTable) -> PriceFigures:
        values: dict[tuple[str, str | None], str] = {
            (name, None): figure(table) for name, figure in TABLE_PLACEHOLDERS.items()
        }
        for plan in table.plans:
            for name, plan_figure in PLAN_PLACEHOLDERS.items():
                # The first plan with a code wins, as in `PlanTable.plan`.
                values.setdefault((name, plan.code), plan_figure(table, plan))
        return cls(tuple(plan.code for plan in table.plans), values)


def _resolve(body: str, figures: PriceFigures) -> str | tuple[str, str]:
    """The text of one placeholder, or (message, hint) when it cannot be resolved."""
    match = _PLACEHOLDER_BODY.fullmatch(body)
    if match is None:
        return f"プレースホルダー「{{{{{body}}}}}」の書き方が違います。", _PLACEHOLDER_HINT
    name, code = match.group(1), match.group(2)
    if name in TABLE_PLACEHOLDERS:
        if code is not None:
            return (
                f"{{{{{name}}}}} にはサポート種別を付けません。",
                f"{{{{{name}}}}} と書いてください。",
            )
        return figures.values[(name, None)]
    if name not in PLAN_PLACEHOLDERS:
        close = difflib.get_close_matches(name, PLACEHOLDER_NAMES, n=1, cutoff=0.6)
        hint = f"{close[0]} の書き間違いではありませんか。" if close else _PLACEHOLDER_HINT
        return f"不明なプレースホルダー「{name}」があります。", hint
    if not code:
        return (
            f"{{{{{name}}}}} にはサポート種別が必要です。",
            f"{{{{{name}:A}}}} のように「:」の後にサポート種別を書いてください。",
        )
    if code not in figures.codes:
        return (
            f"プレースホルダー {{{{{name}:{code}}}}} のサポート種別 "
            f'"{code}" は plans.yml にありません。',
            f"plans.yml にあるサポート種別({', '.join(figures.codes)})を書いてください。",
        )
    return figures.values[(name, code)]


def expand_prices(text: str, figures: PriceFigures) -> str:
    """`text` with every valid placeholder replaced by its figure (others left as written)."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        value = _resolve(match.group(1), figures)
        return value if isinstance(value, str) else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def check_placeholders(ref: TextRef, figures: PriceFigures) -> list[Issue]:
    issues = []
    for match in _PLACEHOLDER.finditer(ref.text):
        value = _resolve(match.group(1), figures)
        if not isinstance(value, str):
            issues.append(Issue(ref.line_at(match.start()), *value))
    return issues


# --- hand-typed yen figures ------------------------------------------------------------

_YEN = re.compile(r"(?<![\d,，.])(\d[\d,，]*)(万)?円")


def mask_placeholders(text: str) -> str:
    """`text` with every ``{{...}}`` replaced by spaces of the same length."""
    if "{{" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)


def placeholder_names(text: str) -> set[str]:
    """The names of the placeholders written in `text`."""
    names = set()
    for match in _PLACEHOLDER.finditer(text):
        body = _PLACEHOLDER_BODY.fullmatch(match.group(1))
        if body:
            names.add(body.group(1))
    return names


def check_yen_figures(ref: TextRef, placeholders: Mapping[int, str]) -> list[Issue]:
    """Every yen figure typed in `ref`: prices come from plans.yml, never typed.

    `placeholders` (`money.amount_placeholders`) names the placeholder that gives an
    amount of the table, for the hint.
    """
    if "円" not in ref.text:
        return []
    text = mask_placeholders(mask_code(ref.text))
    issues = []
    for match in _YEN.finditer(text):
        digits = match.group(1).replace(",", "").replace("，", "")
        amount = int(digits) * (10_000 if match.group(2) else 1)
        if amount == 1 and text.startswith("未満", match.end()):
            continue  # 1円未満 (the rounding unit)
        placeholder = placeholders.get(amount)
        if placeholder:
            message = f"金額「{match.group(0)}」が直接書かれています。"
            hint = (
                f"{placeholder} と書くと plans.yml の料金表から同じ金額が入り、"
                "料金を変えたときも自動で変わります。"
            )
        else:
            message = (
                f"金額「{match.group(0)}」は plans.yml の料金表から求められるどの金額とも"
                "一致しません。"
            )
            hint = (
                "料金を本文に書くときは {{price_incl:A}} のようなプレースホルダーを使ってください"
                "(料金表を変えると自動で変わります)。" + _PLACEHOLDER_HINT
            )
        issues.append(Issue(ref.line_at(match.start()), message, hint))
    return issues


# --- links -----------------------------------------------------------------------------

_LINK = re.compile(
    r"(!?)\[(?:[^\]\\\n]|\\.)*\]\(\s*<?([^\s)>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|//")


def check_links(
    ref: TextRef, *, page: str, site: SiteMap, keep_prefix: str, draft: bool = False
) -> list[Issue]:
    """Links in `ref` (shown on `page`) that would be broken in the built site."""
    if "](" not in ref.text:
        return []
    text = mask_code(ref.text)
    issues = []
    for match in _LINK.finditer(text):
        image, target = match.group(1), match.group(2)
        if image or not target or _SCHEME.match(target):
            continue
        problem = _link_problem(target, page, site, keep_prefix, draft)
        if problem:
            issues.append(Issue(ref.line_at(match.start()), *problem))
    return issues


def _link_problem(
    target: str, page: str, site: SiteMap, keep_prefix: str, draft: bool
) -> tuple[str, str] | None:
    path, _, anchor = target.partition("#")
    path = path.partition("?")[0]
    anchor = unquote(anchor)
    if not path:  # "#anchor" on the same page
        return _anchor_problem(target, page, anchor, site)
    if not path.startswith("/"):
        return (
            f"リンク先「{target}」はサイト内の相対パスです。",
            "サイト内のページへのリンクは [料金プラン](/plans/) のように / から始まるパスで"
            "書いてください。",
        )
    if path.startswith(keep_prefix) or path in SITE_FILES or path in site.unknown:
        return None
    if path in site.drafts:
        if draft:
            return None
        return (
            f"リンク先「{target}」の質問は下書き(draft: true)なので公開されません。",
            "リンク先の質問を公開するか、リンクを外してください。",
        )
    if path in site.pages:
        return None if path in OPEN_PAGES else _anchor_problem(target, path, anchor, site)
    if not path.endswith("/") and path + "/" in site.pages:
        return f"リンク先「{target}」の最後に / がありません。", f"{path}/ と書いてください。"
    close = difflib.get_close_matches(path, list(site.pages), n=1, cutoff=0.7)
    return (
        f"リンク先のページ「{path}」はサイトにありません。",
        f"{close[0]} の書き間違いではありませんか。"
        if close
        else "/faq/<質問ID>/ や /plans/ のように、あるページの URL を書いてください。",
    )


def _anchor_problem(target: str, path: str, anchor: str, site: SiteMap) -> tuple[str, str] | None:
    if not anchor or anchor in site.pages.get(path, ()):
        return None
    known = sorted(site.pages.get(path, ()))
    close = difflib.get_close_matches(anchor, known, n=1, cutoff=0.6)
    return (
        f"リンク先「{target}」の #{anchor} はページ {path} にありません。",
        f"#{close[0]} の書き間違いではありませんか。"
        if close
        else f"このページにある見出しの ID: {', '.join('#' + a for a in known[:12])}",
    )


# --- headings --------------------------------------------------------------------------


def heading_ids(ref: TextRef, taken: set[str]) -> list[Issue]:
    """Add the ids of the headings in `ref` to `taken` (a page's ids); report repeated ones."""
    ids: list[str] = []
    issues = []
    for heading in headings(ref.text, taken):
        if heading.explicit and (heading.id in taken or heading.id in ids):
            issues.append(
                Issue(
                    ref.line + heading.line,
                    f"見出しの ID「{heading.id}」はこのページで既に使われています。",
                    "別の ID にしてください(1 つのページの中で ID は重複できません)。",
                )
            )
        ids.append(heading.id)
    taken.update(ids)
    return issues
