"""`cmskb finder`: the plan finder on the command line, for support staff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..cli_common import content_option, echo_problems, load_or_exit
from .explain import answer_text, assumptions, describe_segment, ranking_rule
from .search import (
    DEFAULT_LIMIT,
    MAX_CASES,
    MAX_YEARS,
    RUNNER_UP_PERCENT,
    Answer,
    FinderInputError,
    Need,
    find_options,
)

CASES = click.IntRange(0, MAX_CASES)


_HELP = f"""必要な件数と期間から、最も安いサポート契約の組み合わせを探します。

\b
答えは content/plans.yml の rules の前提に立ち、出力の「計算の前提」に1文ずつ示します:
- tickets_per_case: 1案件に使うチケットの枚数として計算する数。
- contracts_at_once: 同時に持てるサポート契約の数(1なら契約は順に結びます)。
- addon_tickets_with: 追加チケットを買える契約(any_contract: どの契約でも、
  one_year_contracts: 1年間の契約だけ)。
- version_ups_without_contract: 契約なしでマイナーバージョンアップを受けられる製品。

\b
{ranking_rule()}
"""


@click.command(help=_HELP)
@click.option("--product", required=True, help="製品(ライセンス)の id。例: onprem-perpetual")
@click.option(
    "--version-ups/--no-version-ups",
    default=False,
    show_default=True,
    help="マイナーバージョンアップが必要か。",
)
@click.option("--years", type=click.IntRange(1, MAX_YEARS), required=True, help="検討する年数。")
@click.option("--first-year", type=CASES, required=True, help="1年目に見込む案件の数。")
@click.option(
    "--later-years", type=CASES, default=None,
    help="2年目以降の1年あたりの案件の数(2年以上なら必須)。",
)
@click.option("--no-contract", is_flag=True, help="サポート契約をしない(スポットチケットのみ)。")
@click.option(
    "--limit", type=click.IntRange(1, 20), default=DEFAULT_LIMIT, show_default=True,
    help=f"表示する組み合わせの最大数(2番目からは最安との差が{RUNNER_UP_PERCENT}%以内の案だけ)。",
)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する。")
@content_option("コンテンツのフォルダ。")
def finder(
    product: str,
    version_ups: bool,
    years: int,
    first_year: int,
    later_years: int | None,
    no_contract: bool,
    limit: int,
    as_json: bool,
    content_dir: Path,
) -> None:
    if later_years is None:
        if years > 1:
            raise click.UsageError("--years が2以上のときは --later-years も指定してください。")
        later_years = 0
    content = load_or_exit(
        content_dir, lambda problems: echo_problems(problems, content_dir.as_posix(), err=True)
    )
    try:
        chosen = content.site.product(product)
    except KeyError:
        known = ", ".join(p.id for p in content.site.products)
        raise click.BadParameter(
            f"製品 {product!r} はありません。次のいずれかを指定してください: {known}",
            param_hint="--product",
        ) from None
    try:
        need = Need(chosen, version_ups, years, first_year, later_years, not no_contract)
    except FinderInputError as exc:
        raise click.UsageError(str(exc)) from None
    answer = find_options(content.plans, need, limit=limit)
    rules = assumptions(content.plans, content.site.products)
    click.echo(json.dumps(answer_json(answer, rules), ensure_ascii=False, indent=2) if as_json
               else answer_text(answer, rules))


def answer_json(answer: Answer, rules: tuple[str, ...] = ()) -> dict[str, Any]:
    """The answer as plain data (the `--json` output); `rules`: what it assumes."""
    need = answer.need
    return {
        "need": {
            "product": need.product.id,
            "version_ups": need.version_ups,
            "years": need.years,
            "first_year": need.first_year,
            "later_years": need.later_years,
            "contract_allowed": need.contract_allowed,
        },
        "assumptions": list(rules),
        "ranking": ranking_rule(),
        "found": bool(answer.options),
        "reason": answer.reason,
        "notes": list(answer.notes),
        "options": [
            {
                "total_incl_tax": option.total_incl,
                "total_excl_tax": option.total_excl,
                "purchases": option.purchase_count,
                "addon_tickets": option.addon_count,
                "spot_tickets": option.spot_count,
                "unused_tickets": option.unused,
                "contracts_bought": [
                    {"year": year, "plan": code} for year, code in option.bought
                ],
                "schedule": [
                    {
                        "start_year": s.start,
                        "end_year": s.end,
                        "bought": [plan.code for plan in s.bought],
                        "running": [plan.code for plan in s.running],
                        "extra_years": s.extra_years,
                        "cases": s.cases,
                        "tickets": s.tickets,
                        "addon_tickets": s.addons,
                        "spot_tickets": s.spots,
                        "unused": s.unused,
                        "price_incl_tax": s.price_incl,
                        "price_excl_tax": s.price_excl,
                        "version_ups": s.version_ups,
                        "explanation": describe_segment(s).why,
                    }
                    for s in option.segments
                ],
            }
            for option in answer.options
        ],
    }
