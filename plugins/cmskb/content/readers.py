"""Readers for each kind of content file: a YAML node tree in, model objects out.

Each reader checks what can be checked inside its own file (types, required and unknown
keys, ids, the price table's rules) and returns `Ref`s for what the loader checks across
files (plan codes, product ids, related questions, duplicate ids). Values that were wrong
are None in the returned objects; the loader never hands those out because it raises
ContentError whenever any problem was recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

from .anchors import (
    RESERVED_CASE_IDS,
    RESERVED_CATEGORY_IDS,
    RESERVED_NEWS_IDS,
    RESERVED_QUESTION_IDS,
)
from .fields import FieldReader, index, join, line_of
from .model import (
    MAX_CONTRACTS_AT_ONCE,
    AddonRule,
    Audience,
    Basis,
    BasisKind,
    Category,
    FinderRules,
    FormLinks,
    FreeSupport,
    NewsItem,
    PaidSupport,
    Plan,
    PlanKind,
    PlanTable,
    Product,
    Question,
    RecommendationCase,
    Rounding,
    SearchSettings,
    ServiceItem,
    SiteSettings,
    Source,
    SupportTerms,
    TaxRule,
    TicketExamples,
)
from .price_rules import check_plan, check_table_shape
from .texts import TextRef

T = TypeVar("T")

KEYWORD_MAX_CHARS = 40


@dataclass(frozen=True, slots=True)
class Ref:
    """A value that points at something defined elsewhere, with where it was written."""

    value: str
    line: int
    field: str


@dataclass(slots=True)
class Refs:
    """References and ids found in one file, for the loader's cross-file checks."""

    ids: list[Ref] = field(default_factory=list)
    plans: list[Ref] = field(default_factory=list)
    products: list[Ref] = field(default_factory=list)
    related: list[Ref] = field(default_factory=list)
    popular: list[Ref] = field(default_factory=list)  # site.yml: question ids for the home page
    texts: list[TextRef] = field(default_factory=list)  # Markdown with links and prices

    def add_id(self, value: str | None, node: yaml.Node | None, path: str) -> None:
        """Record an id defined here (nothing when it was wrong or missing)."""
        ref = _ref(value, node, path)
        if ref is not None:
            self.ids.append(ref)

    def add_text(self, node: yaml.Node | None, text: str | None, path: str) -> None:
        ref = TextRef.of(node, text, path)
        if ref is not None:
            self.texts.append(ref)


def _ref(value: str | None, node: yaml.Node | None, path: str) -> Ref | None:
    if value is None or node is None:
        return None
    return Ref(value, line_of(node), path)


def _unique(reader: FieldReader, refs: list[Ref], what: str) -> None:
    """Report values listed twice in one file."""
    seen: dict[str, Ref] = {}
    for ref in refs:
        if ref.value in seen:
            reader.report(
                ref.line,
                ref.field,
                f'{what} "{ref.value}" が 2 回あります(最初は {seen[ref.value].line} 行目)。',
                "重複している方を削除するか、別の値にしてください。",
            )
        else:
            seen[ref.value] = ref


def _ids(reader: FieldReader, items: list[yaml.Node], field: str, what: str) -> list[Ref]:
    refs: list[Ref] = []
    for i, item in enumerate(items):
        path = index(field, i)
        value = reader.ident(item, path)
        ref = _ref(value, item, path)
        if ref:
            refs.append(ref)
    _unique(reader, refs, what)
    return refs


def _build(cls: Callable[..., T], *args: Any, **values: Any) -> T:
    """``cls(...)`` for a model object whose values may still be None.

    A None value is one whose problem is already recorded; the loader never hands out
    such an object because it raises ContentError whenever there is a problem.
    """
    return cls(*args, **values)


def _item_id(
    reader: FieldReader,
    fields: dict[str, yaml.Node],
    path: str,
    reserved: frozenset[str],
    what: str,
) -> str | None:
    """The `id` of a list item: URL-safe and not one of the `reserved` ids."""
    node = fields.get("id")
    value = reader.ident(node, join(path, "id"))
    return _not_reserved(reader, node, value, join(path, "id"), reserved, what)


def _source(reader: FieldReader, node: yaml.Node) -> Source:
    return Source(reader.file, line_of(node))


def _not_reserved(
    reader: FieldReader,
    node: yaml.Node | None,
    value: str | None,
    path: str,
    reserved: frozenset[str],
    what: str,
) -> str | None:
    """`value`, or None after reporting it when it is one of the `reserved` ids."""
    if value is None or node is None or value not in reserved:
        return value
    reader.report(
        node,
        path,
        f'"{value}" はページの URL や見出しの ID として予約されているので、{what} には使えません。',
        f"別の ID にしてください(使えない ID: {', '.join(sorted(reserved))})。",
    )
    return None


# -- site.yml --------------------------------------------------------------------------


def read_site(reader: FieldReader, root: yaml.Node) -> SiteSettings | None:
    return read_site_refs(reader, root)[0]


def read_site_refs(reader: FieldReader, root: yaml.Node) -> tuple[SiteSettings | None, Refs]:
    """site.yml, with the question ids of `popular` as refs (the loader checks them)."""
    keys = reader.mapping(
        root,
        "",
        required=("name", "description", "support_hours", "forum_url", "products"),
        optional=("forms", "tagline", "mission", "popular"),
    )
    if keys is None:
        return None, Refs()
    products: list[Product] = []
    refs = Refs()
    for i, item in enumerate(reader.sequence(keys.get("products"), "products", min_items=1) or []):
        path = index("products", i)
        fields = reader.mapping(
            item, path, required=("id", "name"), optional=(_MOVED_PRODUCT_FLAG,)
        )
        if fields is None:
            continue
        if _MOVED_PRODUCT_FLAG in fields:
            reader.report(
                fields[_MOVED_PRODUCT_FLAG],
                join(path, _MOVED_PRODUCT_FLAG),
                "契約なしでマイナーバージョンアップを受けられる製品は、"
                "plans.yml の rules.version_ups_without_contract に書きます"
                "(site.yml には書きません)。",
                "この行を消し、plans.yml の rules.version_ups_without_contract に "
                "製品 ID を書いてください。",
            )
        product_id = reader.ident(fields.get("id"), join(path, "id"))
        refs.add_id(product_id, fields.get("id"), join(path, "id"))
        products.append(
            _build(
                Product,
                id=product_id,
                name=reader.text(fields.get("name"), join(path, "name")),
            )
        )
    _unique(reader, refs.ids, "製品 ID")
    popular_items = reader.sequence(keys.get("popular"), "popular") or []
    refs.popular = _ids(reader, popular_items, "popular", "質問の ID")
    forms = FormLinks()
    forms_keys = reader.mapping(
        keys.get("forms"), "forms", optional=("base", "feedback", "docs_request", "status")
    )
    if forms_keys:
        forms = FormLinks(
            **{
                key: reader.site_path(node, join("forms", key)) or getattr(forms, key)
                for key, node in forms_keys.items()
            }
        )
    return _build(
        SiteSettings,
        name=reader.text(keys.get("name"), "name"),
        description=reader.text(keys.get("description"), "description"),
        products=tuple(products),
        support_hours=reader.text(keys.get("support_hours"), "support_hours"),
        forum_url=reader.url(keys.get("forum_url"), "forum_url"),
        forms=forms,
        source=_source(reader, root),
        tagline=_optional_text(reader, keys, "tagline"),
        mission=_optional_text(reader, keys, "mission"),
        popular=tuple(ref.value for ref in refs.popular),
    ), refs


# the product flag that moved to plans.yml (rules.version_ups_without_contract)
_MOVED_PRODUCT_FLAG = "minor_version_ups_without_contract"


def _optional_text(reader: FieldReader, keys: dict[str, yaml.Node], key: str) -> str | None:
    node = keys.get(key)
    return reader.text(node, key) if node is not None else None


# -- plans.yml -------------------------------------------------------------------------

_PLAN_KEYS = (
    "code",
    "name",
    "kind",
    "validity_months",
    "minor_version_up",
    "tickets",
    "price_excl_tax",
    "available_to",
)


def _plan_code(reader: FieldReader, node: yaml.Node | None, path: str) -> str | None:
    code = reader.text(node, path)
    if code is None or node is None:
        return None
    if len(code) != 1 or not ("A" <= code <= "Z"):
        reader.report(
            node,
            path,
            f'サポート種別は英大文字 1 文字(A〜Z)のはずですが、"{code}" と書かれています。',
            "A のように半角の英大文字 1 文字で書いてください。",
        )
        return None
    return code


def read_plans(reader: FieldReader, root: yaml.Node) -> tuple[PlanTable | None, Refs]:
    refs = Refs()
    keys = reader.mapping(root, "", required=("tax", "plans", "notes", "rules"))
    if keys is None:
        return None, refs
    tax_keys = reader.mapping(keys.get("tax"), "tax", required=("rate", "rounding"))
    tax = None
    if tax_keys is not None:
        rate = reader.decimal(tax_keys.get("rate"), "tax.rate")
        if rate is not None and not (0 <= rate < 1):
            reader.report(
                tax_keys["rate"],
                "tax.rate",
                "税率は 0 以上 1 未満の小数のはずですが、"
                f"{tax_keys['rate'].value} と書かれています。",
                "10% なら 0.10 と書いてください。",
            )
            rate = None
        rounding = reader.choice(tax_keys.get("rounding"), "tax.rounding", Rounding)
        tax = _build(TaxRule, rate, rounding)
    plans: list[Plan] = []
    plan_nodes: list[tuple[str, dict[str, yaml.Node]]] = []  # (field path, keys) per plan
    for i, item in enumerate(reader.sequence(keys.get("plans"), "plans", min_items=1) or []):
        path = index("plans", i)
        fields = reader.mapping(item, path, required=_PLAN_KEYS, optional=("description",))
        if fields is None:
            continue
        code = _plan_code(reader, fields.get("code"), join(path, "code"))
        refs.add_id(code, fields.get("code"), join(path, "code"))
        description = fields.get("description")
        plan = _build(
            Plan,
            code=code,
            name=reader.text(fields.get("name"), join(path, "name")),
            kind=reader.choice(fields.get("kind"), join(path, "kind"), PlanKind),
            validity_months=reader.integer(
                fields.get("validity_months"), join(path, "validity_months"), minimum=1
            ),
            minor_version_up=reader.boolean(
                fields.get("minor_version_up"), join(path, "minor_version_up")
            ),
            tickets=reader.integer(fields.get("tickets"), join(path, "tickets"), minimum=1),
            price_excl_tax=reader.integer(
                fields.get("price_excl_tax"), join(path, "price_excl_tax"), minimum=1
            ),
            available_to=reader.choice(
                fields.get("available_to"), join(path, "available_to"), Audience
            ),
            description=(reader.text(description, join(path, "description")) or "")
            if description is not None
            else "",
            source=_source(reader, item),
        )
        check_plan(reader, path, plan, fields)
        refs.add_text(description, plan.description or None, join(path, "description"))
        plans.append(plan)
        plan_nodes.append((path, fields))
    _unique(reader, refs.ids, "サポート種別")
    for issue in check_table_shape(plans):
        path, fields = plan_nodes[issue.index]
        reader.report(
            fields.get(issue.key) or plans[issue.index].source.line,
            join(path, issue.key),
            issue.message,
            issue.hint,
        )
    plans_node = keys.get("plans")
    kinds = [p.kind for p in plans]
    if plans_node is not None and kinds and None not in kinds and PlanKind.CONTRACT not in kinds:
        reader.report(
            plans_node,
            "plans",
            "kind: contract のプランが 1 つもありません。",
            "サポート契約のプランを少なくとも 1 つ書いてください。",
        )
    notes = reader.texts(keys.get("notes"), "notes")
    notes_node = keys.get("notes")
    if notes and isinstance(notes_node, yaml.SequenceNode):
        for i, note_node in enumerate(notes_node.value):
            if isinstance(note_node, yaml.ScalarNode):
                refs.add_text(note_node, note_node.value, index("notes", i))
    table = _build(
        PlanTable,
        tax=tax,
        plans=tuple(plans),
        notes=notes or (),
        source=_source(reader, root),
        rules=_read_rules(reader, keys.get("rules"), refs),
    )
    return table, refs


_RULE_KEYS = (
    "tickets_per_case",
    "ticket_rule",
    "contracts_at_once",
    "addon_tickets_with",
    "version_ups_without_contract",
)
MAX_TICKETS_PER_CASE = 99


def _at_most(
    reader: FieldReader, node: yaml.Node | None, field: str, maximum: int, what: str, hint: str
) -> int | None:
    """A whole number from 1 to `maximum`; `what` names the range for the message."""
    value = reader.integer(node, field, minimum=1)
    if value is None or node is None or value <= maximum:
        return value
    reader.report(node, field, f"{what}ですが、{value} と書かれています。", hint)
    return None


def _read_rules(reader: FieldReader, node: yaml.Node | None, refs: Refs) -> FinderRules | None:
    """plans.yml `rules`: how the plan finder reads the table (product ids go to `refs`)."""
    keys = reader.mapping(node, "rules", required=_RULE_KEYS)
    if keys is None:
        return None
    tickets = _at_most(
        reader, keys.get("tickets_per_case"), "rules.tickets_per_case", MAX_TICKETS_PER_CASE,
        f"1案件あたりのチケット数は{MAX_TICKETS_PER_CASE}枚まで",
        "1案件に必要なチケットの枚数を書いてください。",
    )
    at_once = _at_most(
        reader, keys.get("contracts_at_once"), "rules.contracts_at_once", MAX_CONTRACTS_AT_ONCE,
        f"同時に持てる契約の数は1〜{MAX_CONTRACTS_AT_ONCE}",
        "契約を重ねて持てないなら 1、重ねて持てるなら 2 か 3 にしてください"
        "(プラン診断が正確に計算できるのは3件までです)。",
    )
    path = "rules.version_ups_without_contract"
    products = _ids(reader, reader.sequence(keys.get("version_ups_without_contract"), path) or [],
                    path, "製品 ID")
    refs.products.extend(products)
    return _build(
        FinderRules,
        tickets_per_case=tickets,
        ticket_rule=reader.text(keys.get("ticket_rule"), "rules.ticket_rule"),
        contracts_at_once=at_once,
        addon_tickets_with=reader.choice(
            keys.get("addon_tickets_with"), "rules.addon_tickets_with", AddonRule
        ),
        version_ups_without_contract=tuple(ref.value for ref in products),
    )


# -- recommendations.yml ---------------------------------------------------------------


def read_recommendations(
    reader: FieldReader, root: yaml.Node
) -> tuple[tuple[RecommendationCase, ...], Refs]:
    refs = Refs()
    keys = reader.mapping(root, "", required=("cases",))
    if keys is None:
        return (), refs
    cases: list[RecommendationCase] = []
    for i, item in enumerate(reader.sequence(keys.get("cases"), "cases", min_items=1) or []):
        path = index("cases", i)
        fields = reader.mapping(item, path, required=("id", "situation", "plans", "reason"))
        if fields is None:
            continue
        case_id = _item_id(reader, fields, path, RESERVED_CASE_IDS, "事例の ID")
        refs.add_id(case_id, fields.get("id"), join(path, "id"))
        plan_refs: list[Ref] = []
        plans_path = join(path, "plans")
        for j, code_node in enumerate(
            reader.sequence(fields.get("plans"), plans_path, min_items=1) or []
        ):
            code_path = index(plans_path, j)
            code_ref = _ref(reader.text(code_node, code_path), code_node, code_path)
            if code_ref:
                plan_refs.append(code_ref)
        _unique(reader, plan_refs, "サポート種別")
        refs.plans.extend(plan_refs)
        cases.append(
            _build(
                RecommendationCase,
                id=case_id,
                situation=reader.text(fields.get("situation"), join(path, "situation")),
                plans=tuple(r.value for r in plan_refs),
                reason=reader.text(fields.get("reason"), join(path, "reason")),
                source=_source(reader, item),
            )
        )
    _unique(reader, refs.ids, "事例の ID")
    return tuple(cases), refs


# -- ticket-examples.yml and support.yml -----------------------------------------------


def read_ticket_examples(reader: FieldReader, root: yaml.Node) -> TicketExamples | None:
    keys = reader.mapping(root, "", required=("inquiries", "solutions"), optional=("notes",))
    if keys is None:
        return None
    return TicketExamples(
        inquiries=reader.texts(keys.get("inquiries"), "inquiries", min_items=1) or (),
        solutions=reader.texts(keys.get("solutions"), "solutions", min_items=1) or (),
        notes=reader.texts(keys.get("notes"), "notes") or (),
        source=_source(reader, root),
    )


def _services(reader: FieldReader, node: yaml.Node | None, path: str) -> tuple[ServiceItem, ...]:
    services: list[ServiceItem] = []
    for i, item in enumerate(reader.sequence(node, path, min_items=1) or []):
        item_path = index(path, i)
        fields = reader.mapping(item, item_path, required=("title", "description"))
        if fields is None:
            continue
        services.append(
            _build(
                ServiceItem,
                title=reader.text(fields.get("title"), join(item_path, "title")),
                description=reader.text(fields.get("description"), join(item_path, "description")),
            )
        )
    return tuple(services)


def read_support(reader: FieldReader, root: yaml.Node) -> SupportTerms | None:
    keys = reader.mapping(root, "", required=("free", "paid"))
    if keys is None:
        return None
    free_keys = reader.mapping(
        keys.get("free"), "free", required=("summary", "services", "eligibility", "not_included")
    )
    paid_keys = reader.mapping(
        keys.get("paid"),
        "paid",
        required=("summary", "services", "channels", "conditions"),
        optional=("hours",),
    )
    if paid_keys is not None and "hours" in paid_keys:
        reader.report(
            paid_keys["hours"],
            "paid.hours",
            "受付時間は site.yml の support_hours に書きます(support.yml には書きません)。",
            "paid.hours を消し、受付時間は site.yml の support_hours だけで管理してください。",
        )
    free = paid = None
    if free_keys is not None:
        free = _build(
            FreeSupport,
            summary=reader.text(free_keys.get("summary"), "free.summary"),
            services=_services(reader, free_keys.get("services"), "free.services"),
            eligibility=reader.text(free_keys.get("eligibility"), "free.eligibility"),
            not_included=reader.texts(
                free_keys.get("not_included"), "free.not_included", min_items=1
            )
            or (),
        )
    if paid_keys is not None:
        paid = _build(
            PaidSupport,
            summary=reader.text(paid_keys.get("summary"), "paid.summary"),
            services=_services(reader, paid_keys.get("services"), "paid.services"),
            channels=reader.texts(paid_keys.get("channels"), "paid.channels", min_items=1) or (),
            conditions=reader.texts(paid_keys.get("conditions"), "paid.conditions", min_items=1)
            or (),
        )
    return _build(SupportTerms, free=free, paid=paid, source=_source(reader, root))


# -- faq/categories.yml ----------------------------------------------------------------


def read_categories(reader: FieldReader, root: yaml.Node) -> tuple[list[Category], Refs]:
    refs = Refs()
    keys = reader.mapping(root, "", required=("categories",))
    if keys is None:
        return [], refs
    categories: list[Category] = []
    for i, item in enumerate(
        reader.sequence(keys.get("categories"), "categories", min_items=1) or []
    ):
        path = index("categories", i)
        fields = reader.mapping(item, path, required=("id", "title", "description"))
        if fields is None:
            continue
        category_id = _item_id(reader, fields, path, RESERVED_CATEGORY_IDS, "カテゴリーの ID")
        refs.add_id(category_id, fields.get("id"), join(path, "id"))
        categories.append(
            _build(
                Category,
                id=category_id,
                title=reader.text(fields.get("title"), join(path, "title")),
                description=reader.text(fields.get("description"), join(path, "description")),
                source=_source(reader, item),
            )
        )
    _unique(reader, refs.ids, "カテゴリーの ID")
    return categories, refs


# -- one question, one news item -------------------------------------------------------


def _file_id(
    reader: FieldReader, node: yaml.Node | None, stem: str, reserved: frozenset[str], what: str
) -> str | None:
    """The `id` field: equal to the file name without `.yml`, not one of the `reserved` ids."""
    value = reader.ident(node, "id")
    if value is not None and node is not None and value != stem:
        reader.report(
            node,
            "id",
            f'id はファイル名と同じ "{stem}" のはずですが、"{value}" と書かれています。',
            f"ファイル名を {value}.yml に変えるか、id を {stem} にしてください。",
        )
    return _not_reserved(reader, node, value, "id", reserved, what)


def read_question(
    reader: FieldReader, root: yaml.Node, *, category: str, stem: str
) -> tuple[Question | None, Refs]:
    refs = Refs()
    keys = reader.mapping(
        root,
        "",
        required=("id", "question", "answer", "products", "updated"),
        optional=("tags", "related", "draft", "keywords"),
    )
    if keys is None:
        return None, refs
    question_id = _file_id(reader, keys.get("id"), stem, RESERVED_QUESTION_IDS, "質問の ID")
    refs.add_id(question_id, keys.get("id"), "id")
    refs.products = _ids(
        reader,
        reader.sequence(keys.get("products"), "products", min_items=1) or [],
        "products",
        "製品 ID",
    )
    related_node = keys.get("related")
    refs.related = _ids(
        reader, reader.sequence(related_node, "related") or [], "related", "関連する質問の ID"
    )
    for related in refs.related:
        if related.value == question_id:
            reader.report(
                related.line,
                related.field,
                f'質問が自分自身 "{question_id}" を関連する質問にしています。',
                "自分の ID を related から消してください。",
            )
    draft_node = keys.get("draft")
    draft = reader.boolean(draft_node, "draft") if draft_node is not None else False
    tags = reader.texts(keys.get("tags"), "tags") if keys.get("tags") is not None else ()
    keywords = _keywords(reader, keys.get("keywords"))
    answer = reader.text(keys.get("answer"), "answer")
    refs.add_text(keys.get("answer"), answer, "answer")
    question = _build(
        Question,
        id=question_id,
        category=category,
        question=reader.text(keys.get("question"), "question"),
        answer=answer,
        products=tuple(r.value for r in refs.products),
        tags=tags or (),
        related=tuple(r.value for r in refs.related if r.value != question_id),
        updated=reader.date(keys.get("updated"), "updated"),
        draft=bool(draft),
        source=_source(reader, root),
        keywords=keywords,
    )
    return question, refs


def _keywords(reader: FieldReader, node: yaml.Node | None) -> tuple[str, ...]:
    """Search keywords: short words or phrases, each once."""
    if node is None:
        return ()
    values = reader.texts(node, "keywords") or ()
    seen: set[str] = set()
    for i, (item, value) in enumerate(zip(node.value, values, strict=False)):
        field_name = index("keywords", i)
        if len(value) > KEYWORD_MAX_CHARS or "," in value:
            reader.report(
                item,
                field_name,
                f'キーワード "{value[:20]}" は長すぎるか、カンマを含んでいます。',
                f"{KEYWORD_MAX_CHARS} 文字以内の語句を、1 行に 1 つずつ書いてください。",
            )
        elif value in seen:
            reader.report(
                item, field_name, f'キーワード "{value}" が重複しています。', "1 つにしてください。"
            )
        seen.add(value)
    return tuple(dict.fromkeys(values))


def read_search(reader: FieldReader, root: yaml.Node) -> tuple[SearchSettings | None, list[Ref]]:
    """content/search.yml: synonym groups, and the pages kept out of the search (as refs,
    which the loader checks against the site's pages)."""
    keys = reader.mapping(root, "", optional=("synonyms", "exclude"))
    if keys is None:
        return None, []
    groups: list[tuple[str, ...]] = []
    owner: dict[str, str] = {}  # word -> field of the group that has it
    for i, group_node in enumerate(reader.sequence(keys.get("synonyms"), "synonyms") or []):
        field_name = index("synonyms", i)
        words = reader.texts(group_node, field_name, min_items=2)
        if not words:
            continue
        for j, word in enumerate(words):
            key = word.strip()
            if key in owner:
                reader.report(
                    group_node.value[j],
                    index(field_name, j),
                    f'"{key}" は {owner[key]} にもあります。',
                    "1 つの語は 1 つのグループにだけ書き、"
                    "同じ意味の語は同じグループにまとめてください。",
                )
            owner.setdefault(key, field_name)
        groups.append(tuple(dict.fromkeys(w.strip() for w in words)))
    exclude: list[Ref] = []
    for i, node in enumerate(reader.sequence(keys.get("exclude"), "exclude") or []):
        field_name = index("exclude", i)
        path = reader.site_path(node, field_name)
        if path is not None:
            exclude.append(Ref(path, line_of(node), field_name))
    settings = SearchSettings(synonyms=tuple(groups), exclude=tuple(r.value for r in exclude))
    return settings, exclude


def read_news(reader: FieldReader, root: yaml.Node, *, stem: str) -> tuple[NewsItem | None, Refs]:
    refs = Refs()
    keys = reader.mapping(
        root, "", required=("id", "date", "title", "body", "source"),
        optional=("category", "quote", "important"),
    )
    if keys is None:
        return None, refs
    news_id = _file_id(reader, keys.get("id"), stem, RESERVED_NEWS_IDS, "お知らせの ID")
    refs.add_id(news_id, keys.get("id"), "id")
    category = keys.get("category")
    body = reader.text(keys.get("body"), "body")
    refs.add_text(keys.get("body"), body, "body")
    item = _build(
        NewsItem,
        id=news_id,
        date=reader.date(keys.get("date"), "date"),
        title=reader.text(keys.get("title"), "title"),
        body=body,
        category=reader.text(category, "category") if category is not None else None,
        source=_source(reader, root),
        basis=_read_basis(reader, keys),
        important=_optional_flag(reader, keys, "important"),
    )
    return item, refs


def _optional_flag(reader: FieldReader, keys: dict[str, yaml.Node], key: str) -> bool | None:
    """An optional boolean: False when absent, None (reported) when not a boolean."""
    node = keys.get(key)
    return reader.boolean(node, key) if node is not None else False


def _read_basis(reader: FieldReader, keys: dict[str, yaml.Node]) -> Basis | None:
    """`source` (seed / site / generic) and `quote` (the seed's words, for seed only)."""
    kind = reader.choice(keys.get("source"), "source", BasisKind)
    quote_node = keys.get("quote")
    quote = reader.text(quote_node, "quote") if quote_node is not None else None
    if kind is BasisKind.SEED and quote_node is None and "source" in keys:
        reader.report(
            keys["source"],
            "quote",
            "source: seed のお知らせには、根拠にしたサポートサービスのご案内の文言(quote)が"
            "必要です。",
            "quote: に、ご案内の文章をそのまま書き写してください。",
        )
        return None
    if kind is not None and kind is not BasisKind.SEED and quote_node is not None:
        reader.report(
            quote_node,
            "quote",
            f"quote は source: seed のときだけ書きます(source: {kind.value} と書かれています)。",
            "ご案内の文言に基づくお知らせなら source: seed に、"
            "そうでなければ quote を消してください。",
        )
        return None
    if kind is None or (quote_node is not None and quote is None):
        return None
    return Basis(kind, quote)
