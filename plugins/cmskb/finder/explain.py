"""Japanese wording of the finder's answers: shared by the command line and the page data."""

from __future__ import annotations

from dataclasses import dataclass

from ..content.money import yen
from .search import Answer, Segment


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


def describe_segment(segment: Segment) -> SegmentText:
    """The Japanese text of one segment."""
    period = period_label(segment.start, segment.end)
    price = price_label(segment.price_incl, segment.price_excl)
    if segment.plan is None:
        return _describe_year_without_contract(segment, period, price)
    plan = segment.plan
    purchase = f"{plan.code} {plan.name}"
    if segment.extra_count and segment.extra_plan is not None:
        purchase += f" + {segment.extra_plan.name}({segment.extra_plan.code})×{segment.extra_count}"
    why: list[str] = []
    if segment.years > 1:
        why.append(f"{plan.validity_label}間の契約の付属チケットは、この期間のどの年にも使えます。")
    if segment.extra_count and segment.extra_plan is not None:
        why.append(
            f"この期間の見込み{segment.cases}件に対して付属チケットは{segment.tickets}枚なので、"
            f"{segment.extra_plan.name}({segment.extra_plan.code})を{segment.extra_count}枚、"
            "契約期間中に必要になった年に買い足します。"
        )
    elif segment.cases:
        why.append(f"この期間の見込み{segment.cases}件を付属の{segment.tickets}チケットでまかなえます。")
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
    return SegmentText(period, purchase, price, "".join(why))


def _describe_year_without_contract(segment: Segment, period: str, price: str) -> SegmentText:
    if not segment.extra_count or segment.extra_plan is None:
        return SegmentText(
            period,
            "購入なし",
            price,
            "この年はチケットを使う見込みがないので、契約も購入も不要です(無償サポートの範囲)。",
        )
    spot = segment.extra_plan
    why = (
        f"この年は契約せず、見込み{segment.cases}件を{spot.name}({spot.code})で1件ずつ対応します"
        f"(有効期限は購入から{spot.validity_label}、マイナーバージョンアップは付きません)。"
    )
    return SegmentText(period, f"{spot.name}({spot.code})×{segment.extra_count}", price, why)


def answer_text(answer: Answer) -> str:
    """The whole answer as plain Japanese text (the command line prints it)."""
    need = answer.need
    later = f"、2年目以降は毎年{need.later_years}件" if need.years > 1 else ""
    lines = [
        f"条件: {need.product.name}、マイナーバージョンアップ"
        f"{'必要' if need.version_ups else '不要'}、{need.years}年間、"
        f"1年目{need.first_year}件{later}"
        f"{'' if need.contract_allowed else '、契約なし'}",
    ]
    lines.extend(f"※ {note}" for note in answer.notes)
    if not answer.options:
        lines.append(f"条件に合う組み合わせはありません。{answer.reason}")
        return "\n".join(lines)
    for number, option in enumerate(answer.options, start=1):
        lines.append("")
        lines.append(f"案{number}: 合計 {price_label(option.total_incl, option.total_excl)}")
        for segment in option.segments:
            text = describe_segment(segment)
            lines.append(f"  {text.period}: {text.purchase}  {text.price}")
            lines.append(f"    {text.why}")
        lines.append(
            f"  追加チケット {option.addon_count}枚、スポットチケット {option.spot_count}枚、"
            f"使われないチケット {option.unused}枚"
        )
    return "\n".join(lines)
