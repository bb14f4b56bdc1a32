"""Claims in editors' text that the price data can prove wrong.

- **Price comparisons** ("F is the cheapest per ticket", "the longer the plan, the
  cheaper"): a sentence that compares prices must either use a computed comparison
  placeholder (``{{per_ticket_ranking}}``, ``{{cheapest_per_ticket}}``) or be one of the
  forms checked here against plans.yml: a superlative naming its plans, a comparison of
  two named plans, or "the longer / the more tickets, the cheaper". Any other price
  comparison cannot be checked and is a problem too.
  Sentences about the purchase combinations the plan finder works out (組み合わせ) are
  not checked: the finder computes those for each need.
- **The tickets-per-case rule**: "how many tickets a case takes" is stated once, in
  plans.yml ``rules.ticket_rule``; texts that restate it (``1案件ごとに…``, "the number
  depends on the work") are problems whose hint is ``{{ticket_rule}}``.

Prices compared are tax-included: per ticket when the sentence speaks of a price per
ticket (あたり, 単価), else the plan's price.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from .anchors import mask_code
from .model import Plan, PlanKind, PlanTable
from .money import per_ticket_value
from .texts import (
    COMPARISON_PLACEHOLDERS,
    Issue,
    TextRef,
    mask_placeholders,
    placeholder_names,
)

_SENTENCE = re.compile(r"[^。!?！？\n]+[。!?！？]?")
_CHEAPER = r"安い|安く|安価|安さ|割安|お得|低い|低く|下が|抑え|節約|最安"
_DEARER = r"高い|高く|高額|割高|上が"
_COMPARATIVE = re.compile(rf"{_CHEAPER}|{_DEARER}")
_DEARER_RE = re.compile(_DEARER)
_PRICE_WORD = re.compile(r"料金|価格|単価|金額|費用|円|あたり|コスト|予算|支払|割安|割高|お得|最安")
_PER_TICKET = re.compile(r"あたり|単価")
_SUPERLATIVE = re.compile(rf"(?:最も|もっとも|いちばん|一番|最)(?:{_CHEAPER}|{_DEARER})|最安")
_THE_MORE = re.compile(
    r"(?P<validity>期間|契約期間|年数|契約年数)が(?P<vdir>長い|短い)"
    r"|(?P<validity2>長期|短期)の?(?:プラン|契約)"
    r"|(?P<tickets>チケット数|チケットの数|付属チケット|チケット)が(?P<tdir>多い|少ない)"
)
_HODO = re.compile(r"ほど")
_FINDER_RESULT = re.compile(r"組み合わせ")
_QUESTION = re.compile(r"[?？]\s*$|か[。．.]?\s*$|どの|どれ")
_ONE_YEAR_SCOPE = re.compile(r"1年(?:間)?(?:の)?(?:契約|プラン)(?:の)?(?:中|うち)")
_MULTI_YEAR_SCOPE = re.compile(r"複数年(?:の)?(?:契約|プラン)?(?:の)?(?:中|うち)?")
_CONTRACT_SCOPE = re.compile(r"契約(?:プラン)?(?:の)?(?:中|うち)")
_CODE = re.compile(r"(?<![A-Za-z0-9&])([A-Z])(?![A-Za-z0-9])")

# restatements of how many tickets a case takes (the rule lives in rules.ticket_rule)
_TICKET_RULE = re.compile(
    r"(?:案件|件|依頼|質問)(?:ごと|毎|につき|あたり)[^。\n]{0,30}チケット"
    r"|チケット[^。\n]{0,12}(?:案件|件)(?:ごと|毎|につき|あたり)"
    r"|(?:枚数|チケット数|チケットの数)(?:は|が)[^。\n]{0,15}(?:異な|変わ|によ)"
    r"|(?:内容|量|規模)(?:に応じて|によって)[^。\n]{0,15}チケット"
)
RULE_FIELD = "rules.ticket_rule"

_HINT = (
    "料金の比較は、{{per_ticket_ranking}}(1チケットあたりの安い順)や {{cheapest_per_ticket}}"
    "(1チケットあたりが最も安いプラン)のように料金表から計算した文で書くか、"
    "比べるプランを A〜I の記号か名称で書いてください(確かめられる比較だけが通ります)。"
)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    text: str  # code spans and placeholders masked
    raw: str  # as written (placeholders kept)


def _sentences(ref: TextRef) -> Iterator[_Sentence]:
    masked = mask_placeholders(mask_code(ref.text))
    for match in _SENTENCE.finditer(masked):
        yield _Sentence(match.start(), match.group(0), ref.text[match.start() : match.end()])


# --- price comparisons -------------------------------------------------------------------


def check_comparisons(ref: TextRef, table: PlanTable, subject: Plan | None = None) -> list[Issue]:
    """Price comparisons in `ref` that plans.yml contradicts or cannot confirm.

    `subject` is the plan a text describes (a plan's description), named or not.
    """
    if not _COMPARATIVE.search(ref.text):
        return []
    issues = []
    for sentence in _sentences(ref):
        text = sentence.text
        if not (_COMPARATIVE.search(text) and _PRICE_WORD.search(text)):
            continue
        if placeholder_names(sentence.raw) & COMPARISON_PLACEHOLDERS:
            continue  # a computed comparison
        if _QUESTION.search(text):
            continue  # a question claims nothing
        if _FINDER_RESULT.search(text):
            continue  # what the plan finder computes for each need
        problem = _judge(text, sentence.raw.strip(), table, subject)
        if problem:
            issues.append(Issue(ref.line_at(sentence.start), problem, _HINT))
    return issues


def _judge(text: str, quoted: str, table: PlanTable, subject: Plan | None) -> str | None:
    """None when the comparison in `text` holds in `table`, else the problem."""
    per_ticket = bool(_PER_TICKET.search(text))
    metric = _per_ticket if per_ticket else _price
    what = "1チケットあたりの税込料金" if per_ticket else "税込料金"
    dearer = bool(_DEARER_RE.search(text)) and not re.search(_CHEAPER, text)
    the_more = _THE_MORE.search(text)
    if the_more and _HODO.search(text, the_more.end()):
        return _judge_the_more(quoted, the_more, dearer, metric, what, table)
    named = _named_plans(text, table)
    if subject is not None and subject not in named:
        named.insert(0, subject)
    if _SUPERLATIVE.search(text):
        if not named:
            return f"「{quoted}」の比較は、どのプランのことか料金表で確かめられません。"
        scope = _scope(text, table)
        values = [metric(table, plan) for plan in scope]
        target = max(values) if dearer else min(values)
        wrong = [plan for plan in named if metric(table, plan) != target]
        if wrong:
            best = [p.code for p in scope if metric(table, p) == target]
            return (
                f"「{quoted}」とありますが、料金表では{what}が最も"
                f"{'高い' if dearer else '安い'}のは {'、'.join(best)} です"
                f"({'、'.join(p.code for p in wrong)} ではありません)。"
            )
        return None
    if "より" in text and len(named) == 2:
        before = text.index("より")
        mentions = sorted(named, key=lambda plan: _last_mention(text[:before], plan))
        other, subject = mentions[-1], mentions[0]  # the plan just before より is compared to
        ok = (metric(table, subject) > metric(table, other) if dearer
              else metric(table, subject) < metric(table, other))
        if ok:
            return None
        return (
            f"「{quoted}」とありますが、料金表では{what}は {subject.code} が"
            f"{_show(metric(table, subject))}、{other.code} が{_show(metric(table, other))}です。"
        )
    return f"「{quoted}」は料金の比較ですが、料金表で確かめられる形になっていません。"


def _judge_the_more(
    quoted: str,
    match: re.Match[str],
    dearer: bool,
    metric: Callable[[PlanTable, Plan], Fraction],
    what: str,
    table: PlanTable,
) -> str | None:
    """"The longer (the more tickets), the cheaper": every contract pair must agree."""
    by_tickets = match.group("tickets") is not None
    ascending = (match.group("tdir") == "多い" if by_tickets
                 else (match.group("vdir") or "") == "長い" or match.group("validity2") == "長期")

    def size(plan: Plan) -> int:
        return plan.tickets if by_tickets else plan.validity_months

    contracts = [p for p in table.plans if p.kind is PlanKind.CONTRACT]
    for small in contracts:
        for large in contracts:
            if size(small) >= size(large):
                continue
            first, second = (small, large) if ascending else (large, small)
            # the claim: from `first` to `second`, the price goes down (up when dearer)
            ok = (metric(table, second) > metric(table, first) if dearer
                  else metric(table, second) < metric(table, first))
            if not ok:
                return (
                    f"「{quoted}」とありますが、料金表では {first.code} の{what}が"
                    f"{_show(metric(table, first))}、{second.code} が"
                    f"{_show(metric(table, second))}です。"
                )
    return None


def _per_ticket(table: PlanTable, plan: Plan) -> Fraction:
    return per_ticket_value(table, plan)


def _price(table: PlanTable, plan: Plan) -> Fraction:
    return Fraction(table.price_incl_tax(plan))


def _show(value: Fraction) -> str:
    whole = round(value)
    return f"{'' if whole == value else '約'}{whole:,}円"


def _named_plans(text: str, table: PlanTable) -> list[Plan]:
    """The plans a sentence names, by code (A) or by name, in table order."""
    codes = {m.group(1) for m in _CODE.finditer(text)}
    return [p for p in table.plans if p.code in codes or p.name in text]


def _last_mention(text: str, plan: Plan) -> int:
    positions = [m.start() for m in _CODE.finditer(text) if m.group(1) == plan.code]
    if plan.name in text:
        positions.append(text.rindex(plan.name))
    return max(positions, default=-1)


def _scope(text: str, table: PlanTable) -> list[Plan]:
    """The plans a superlative compares among (1-year / multi-year / contracts / all)."""
    contracts = [p for p in table.plans if p.kind is PlanKind.CONTRACT]
    if _ONE_YEAR_SCOPE.search(text):
        return [p for p in contracts if p.validity_months == 12]
    if _MULTI_YEAR_SCOPE.search(text):
        return [p for p in contracts if p.validity_months > 12]
    if _CONTRACT_SCOPE.search(text):
        return contracts
    return list(table.plans)


# --- the tickets-per-case rule -------------------------------------------------------------


def check_ticket_rule(ref: TextRef) -> list[Issue]:
    """Texts other than rules.ticket_rule that restate how many tickets a case takes."""
    if ref.field == RULE_FIELD or "チケット" not in ref.text:
        return []
    issues = []
    for sentence in _sentences(ref):
        if _TICKET_RULE.search(sentence.text):
            issues.append(
                Issue(
                    ref.line_at(sentence.start),
                    f"「{sentence.text.strip()}」は、チケットの必要枚数の規則を書き直しています。"
                    "規則は plans.yml の rules.ticket_rule に1か所だけ書きます。",
                    "回答・お知らせ・プランの説明・注記では {{ticket_rule}} と書くと"
                    "その文が入ります。"
                    "それ以外の項目では、この文を消してください。",
                )
            )
    return issues
