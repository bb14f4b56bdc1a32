"""`cmskb finder`: the plan finder on the command line, for support staff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..cli_common import CONTENT_DIR, echo_problems, load_or_exit
from .explain import answer_text, describe_segment
from .search import (
    DEFAULT_LIMIT,
    MAX_CASES,
    MAX_YEARS,
    Answer,
    FinderInputError,
    Need,
    find_options,
)

CASES = click.IntRange(0, MAX_CASES)


@click.command()
@click.option("--product", required=True, help="製品(ライセンス)の id。例: onprem-perpetual")
@click.option(
    "--version-ups/--no-version-ups",
    default=False,
    show_default=True,
    help="マイナーバージョンアップが必要か。",
)
@click.option("--years", type=click.IntRange(1, MAX_YEARS), required=True, help="検討する年数。")
@click.option("--first-year", type=CASES, required=True, help="1年目に見込む件数(チケット数)。")
@click.option(
    "--later-years", type=CASES, default=None, help="2年目以降の1年あたりの件数(2年以上なら必須)。"
)
@click.option("--no-contract", is_flag=True, help="サポート契約をしない(スポットチケットのみ)。")
@click.option(
    "--limit", type=click.IntRange(1, 20), default=DEFAULT_LIMIT, show_default=True,
    help="表示する組み合わせの数。",
)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する。")
@click.option(
    "--content",
    "content_dir",
    type=CONTENT_DIR,
    default="content",
    show_default=True,
    help="コンテンツのフォルダ。",
)
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
    """必要な件数と期間から、最も安いサポート契約の組み合わせを探します。"""
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
    click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=2) if as_json
               else answer_text(answer))


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as plain data (the `--json` output)."""
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
        "found": bool(answer.options),
        "reason": answer.reason,
        "notes": list(answer.notes),
        "options": [
            {
                "total_incl_tax": option.total_incl,
                "total_excl_tax": option.total_excl,
                "addon_tickets": option.addon_count,
                "spot_tickets": option.spot_count,
                "unused_tickets": option.unused,
                "schedule": [
                    {
                        "start_year": s.start,
                        "end_year": s.end,
                        "plan": s.plan.code if s.plan else None,
                        "extra_years": s.extra_years,
                        "cases": s.cases,
                        "tickets": s.tickets,
                        "extra_plan": s.extra_plan.code if s.extra_plan else None,
                        "extra_count": s.extra_count,
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
