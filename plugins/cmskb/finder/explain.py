"""Japanese wording of the finder's answers: shared by the command line and the page data.

`assumptions` states, one sentence each, the rules of plans.yml that an answer rests on;
the command line, its JSON and the plans page all show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..content.model import AddonRule, PlanKind, PlanTable, Product
from ..content.money import yen
from .search import RUNNER_UP_PERCENT, Answer, Option, Segment


@dataclass(frozen=True, slots=True)
class SegmentText:
    """How one segment reads: the years, what to buy, its price and why it fits."""

    period: str
    purchase: str
    price: str
    why: str


def price_label(incl: int, excl: int) -> str:
    return f"{yen(incl)}(税込)/{yen(excl)}(税別)"


def period_label(start: int, end: int) -> str:
    return f"{start}年目" if start == end else f"{start}〜{end}年目"


def assumptions(table: PlanTable, products: Sequence[Product]) -> tuple[str, ...]:
    """The rules an answer rests on, one Japanese sentence each (from plans.yml `rules`)."""
    rules = table.rules
    contracts = [p.code for p in table.plans if p.kind is PlanKind.CONTRACT]
    addon = next((p for p in table.plans if p.kind is PlanKind.ADDON), None)
    spot = next((p for p in table.plans if p.kind is PlanKind.SPOT), None)
    lines = [f"1案件につき{rules.tickets_per_case}チケットを使うものとして計算しています。"]
    if rules.contracts_at_once == 1:
        lines.append("サポート契約は同時に1つだけ持ち、契約期間が終わってから次の契約を結ぶものとして"
                     "計算しています。")
    else:
        lines.append(f"サポート契約は同時に{rules.contracts_at_once}件まで重ねて持てるものとして"
                     "計算しています。")
    if addon is None:
        lines.append("料金表に追加チケットがないため、契約に付属するチケットだけで計算しています。")
    elif rules.addon_tickets_with is AddonRule.ANY_CONTRACT:
        lines.append(f"{addon.name}({addon.code})は、どのサポート契約({_codes(contracts)})の"
                     "期間中でも買えるものとして計算しています。")
    else:
        one_year = [p.code for p in table.plans
                    if p.kind is PlanKind.CONTRACT and p.validity_months == 12]
        lines.append(f"{addon.name}({addon.code})は、1年間のサポート契約"
                     f"({_codes(one_year) or 'なし'})の期間中だけ買えるものとして計算しています。")
    free = [p.name for p in products if p.id in rules.version_ups_without_contract]
    if free:
        lines.append(f"マイナーバージョンアップは、{'・'.join(free)}ではサポート契約がなくても、"
                     "ほかの製品ではサポート契約の期間中だけ受けられるものとして計算しています。")
    else:
        lines.append("マイナーバージョンアップは、どの製品でもサポート契約の期間中だけ受けられるものとして"
                     "計算しています。")
    lines.append("契約に付属するチケットは、その契約期間中のどの年の案件にも使えるものとして"
                 "計算しています。")
    if spot is not None:
        lines.append(f"契約のない年は、必要な枚数の{spot.name}({spot.code})を購入するものとして"
                     "計算しています。")
    return tuple(lines)


def ranking_rule() -> str:
    """How options are ordered and when the runner-up is shown (one sentence)."""
    return (
        "合計(税込)が同じ案は、購入の数が少ない案、使われないチケットが多い案、料金表で先に"
        f"載っているプランの案の順に並べ、2番目の案は最安との差が{RUNNER_UP_PERCENT}%以内のとき"
        "だけ示します。"
    )


def _codes(codes: Sequence[str]) -> str:
    if len(codes) > 2 and [ord(c) for c in codes] == list(range(ord(codes[0]),
                                                                ord(codes[0]) + len(codes))):
        return f"{codes[0]}〜{codes[-1]}"
    return "・".join(codes)


def _need_label(cases: int, tickets: int) -> str:
    return f"見込み{cases}件" if cases == tickets else f"見込み{cases}件({tickets}チケット)"


def describe_segment(segment: Segment) -> SegmentText:
    """The Japanese text of one segment."""
    period = period_label(segment.start, segment.end)
    price = price_label(segment.price_incl, segment.price_excl)
    if not segment.with_contract:
        return _describe_year_without_contract(segment, period, price)
    parts = [f"{plan.code} {plan.name}" for plan in segment.bought] or ["新たな契約なし"]
    extra = segment.extra_plan
    if segment.addons and extra is not None:
        parts.append(f"{extra.name}({extra.code})×{segment.addons}")
    why: list[str] = []
    if segment.running:
        why.append(f"{'・'.join(p.code for p in segment.running)}の契約が続いています。")
    if len(segment.bought) == 1 and segment.years > 1:
        plan = segment.bought[0]
        why.append(f"{plan.validity_label}間の契約の付属チケットは、この期間のどの年にも使えます。")
    held = segment.included + segment.carried
    need = _need_label(segment.cases, segment.tickets)
    if segment.addons and extra is not None:
        why.append(
            f"この期間の{need}に対して使えるチケットは{held}枚なので、"
            f"{extra.name}({extra.code})を{segment.addons}枚、必要になった年に買い足します。"
        )
    elif segment.tickets:
        source = f"付属の{segment.included}チケット" if segment.included else ""
        if segment.carried:
            source += ("と、" if source else "") + f"前から持っている{segment.carried}チケット"
        why.append(f"この期間の{need}を{source}でまかなえます。")
    else:
        why.append("この期間はチケットを使う見込みがありません。")
    if segment.unused:
        why.append(f"{segment.unused}チケットは使われないまま期限が切れます。")
    if segment.version_ups:
        why.append("契約期間中はマイナーバージョンアップを受けられます。")
    if segment.extra_years:
        last = segment.end + segment.extra_years
        why.append(
            f"契約は{last}年目まで続き、ご希望の期間を{segment.extra_years}年超えますが、"
            "料金は契約全体の分がかかります。"
        )
    return SegmentText(period, " + ".join(parts), price, "".join(why))


def _describe_year_without_contract(segment: Segment, period: str, price: str) -> SegmentText:
    spot = segment.extra_plan
    if not segment.spots or spot is None:
        return SegmentText(
            period,
            "購入なし",
            price,
            "この年はチケットを使う見込みがないので、契約も購入も不要です(無償サポートの範囲)。",
        )
    why = (
        f"この年は契約せず、{_need_label(segment.cases, segment.tickets)}を{spot.name}({spot.code})"
        f"{segment.spots}枚で対応します(有効期限は{spot.validity_label}、"
        "マイナーバージョンアップは付きません)。"
    )
    return SegmentText(period, f"{spot.name}({spot.code})×{segment.spots}", price, why)


def answer_text(answer: Answer, rules: Sequence[str] = ()) -> str:
    """The whole answer as plain Japanese text (the command line prints it).

    `rules` (`assumptions`) are printed first, one line each.
    """
    need = answer.need
    later = f"、2年目以降は毎年{need.later_years}件" if need.years > 1 else ""
    lines = [
        f"条件: {need.product.name}、マイナーバージョンアップ"
        f"{'必要' if need.version_ups else '不要'}、{need.years}年間、"
        f"1年目{need.first_year}件{later}"
        f"{'' if need.contract_allowed else '、契約なし'}",
    ]
    if rules:
        lines.append("計算の前提:")
        lines.extend(f"- {rule}" for rule in rules)
    lines.extend(f"※ {note}" for note in answer.notes)
    if not answer.options:
        lines.append(f"条件に合う組み合わせはありません。{answer.reason}")
        return "\n".join(lines)
    for number, option in enumerate(answer.options, start=1):
        lines.append("")
        title = "最安" if number == 1 else f"次点、最安との差 {_gap(answer, option)}"
        total = price_label(option.total_incl, option.total_excl)
        lines.append(f"案{number}({title}): 合計 {total}")
        for segment in option.segments:
            text = describe_segment(segment)
            lines.append(f"  {text.period}: {text.purchase}  {text.price}")
            lines.append(f"    {text.why}")
        lines.append(
            f"  購入 {option.purchase_count}点(追加チケット {option.addon_count}枚、"
            f"スポットチケット {option.spot_count}枚)、使われないチケット {option.unused}枚"
        )
    return "\n".join(lines)


def _gap(answer: Answer, option: Option) -> str:
    return yen(option.total_incl - answer.options[0].total_incl)
