"""Self-consistency rules of the price table (FORMAT.md, plans.yml)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from .fields import FieldReader, join
from .model import Audience, Plan, PlanKind

_YEARS_RE = re.compile(r"(\d+)年間")
_TICKETS_RE = re.compile(r"\((\d+)チケット付\)")

_KIND_AUDIENCE = {
    PlanKind.CONTRACT: Audience.ANYONE,
    PlanKind.ADDON: Audience.CONTRACT_HOLDERS,
    PlanKind.SPOT: Audience.NON_CONTRACT_HOLDERS,
}
_KIND_LABEL = {
    PlanKind.CONTRACT: "サポート契約(contract)",
    PlanKind.ADDON: "追加チケット(addon)は年間サポートの契約者だけが買えるので",
    PlanKind.SPOT: "スポットチケット(spot)は契約のない方だけが買えるので",
}


def check_plan(reader: FieldReader, field: str, plan: Plan, nodes: dict[str, yaml.Node]) -> None:
    """Record every rule that one row of the table breaks (values already type-checked)."""
    kind = plan.kind
    if kind is not None and plan.available_to is not None:
        expected = _KIND_AUDIENCE[kind]
        if plan.available_to != expected:
            reader.report(
                nodes["available_to"],
                join(field, "available_to"),
                f"{_KIND_LABEL[kind]} available_to は {expected.value} のはずですが、"
                f"{plan.available_to.value} と書かれています。",
                f"available_to を {expected.value} にするか、kind を確かめてください。",
            )
    if kind in (PlanKind.ADDON, PlanKind.SPOT) and plan.minor_version_up:
        reader.report(
            nodes["minor_version_up"],
            join(field, "minor_version_up"),
            f"kind: {kind.value} のチケットにはマイナーバージョンアップが付かないので "
            "false のはずですが、true と書かれています。",
            "minor_version_up を false にしてください。",
        )
    name = unicodedata.normalize("NFKC", plan.name) if plan.name else ""
    years = _YEARS_RE.search(name)
    if years and plan.validity_months is not None and plan.validity_months != 12 * int(years[1]):
        reader.report(
            nodes["validity_months"],
            join(field, "validity_months"),
            f"名称が「{years[0]}」なので validity_months は {12 * int(years[1])} のはずですが、"
            f"{plan.validity_months} と書かれています。",
            "名称か validity_months のどちらかを直してください。",
        )
    tickets = _TICKETS_RE.search(name)
    if tickets and plan.tickets is not None and plan.tickets != int(tickets[1]):
        reader.report(
            nodes["tickets"],
            join(field, "tickets"),
            f"名称が「{tickets[0]}」なので tickets は {int(tickets[1])} のはずですが、"
            f"{plan.tickets} と書かれています。",
            "名称か tickets のどちらかを直してください。",
        )


# --- what the plan finder can express (cmskb.finder reuses these rules) -----------------

MAX_CONTRACTS = 98  # the finder numbers contracts below its "no contract" marker (99)


@dataclass(frozen=True, slots=True)
class TableIssue:
    """A table-wide rule broken by `plans[index]`: the key to blame and what to say."""

    index: int
    key: str
    message: str
    hint: str


def check_table_shape(plans: Sequence[Plan]) -> list[TableIssue]:
    """Rules the plan finder needs: yearly contracts, single add-on and spot tickets.

    Plans with values still unknown (None after an earlier problem) are skipped.
    """
    issues: list[TableIssue] = []
    contracts = 0
    by_kind: dict[PlanKind, list[int]] = {PlanKind.ADDON: [], PlanKind.SPOT: []}
    for i, plan in enumerate(plans):
        if plan.kind is PlanKind.CONTRACT:
            contracts += 1
            if plan.validity_months is not None and plan.validity_months % 12:
                issues.append(
                    TableIssue(
                        i,
                        "validity_months",
                        f"契約プラン {plan.code} の validity_months が{plan.validity_months}です。"
                        "プラン診断は年単位(12の倍数)の契約だけを扱えます。",
                        "サポート契約の有効期間は 12、24、36 のように"
                        " 12 の倍数の月数にしてください。",
                    )
                )
            if contracts == MAX_CONTRACTS + 1:
                issues.append(
                    TableIssue(
                        i,
                        "kind",
                        f"プラン診断が扱える契約プランは{MAX_CONTRACTS}件までです。",
                        "契約プランの数を減らしてください。",
                    )
                )
        elif plan.kind in by_kind:
            by_kind[plan.kind].append(i)
            if plan.tickets is not None and plan.tickets != 1:
                issues.append(
                    TableIssue(
                        i,
                        "tickets",
                        f"{plan.code} の tickets が{plan.tickets}です。"
                        f"プラン診断は kind: {plan.kind.value} のチケットを1枚単位で扱います"
                        "(tickets: 1)。",
                        "tickets: 1 にしてください(まとめ買いは枚数分を購入する形で扱います)。",
                    )
                )
    for kind, found in by_kind.items():
        if len(found) > 1:
            codes = ", ".join(str(plans[i].code) for i in found)
            issues.append(
                TableIssue(
                    found[1],
                    "kind",
                    f"kind: {kind.value} のプランが複数あります({codes})。"
                    "プラン診断は1種類だけを扱えます。",
                    f"kind: {kind.value} のプランを 1 つにまとめてください。",
                )
            )
    return issues
