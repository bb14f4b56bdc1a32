"""The content layer's renderer, tested on Content objects built here (no mkdocs)."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import feedparser
import markdown
import pytest
from cmskb.content.model import (
    Audience,
    Category,
    Content,
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
    ServiceItem,
    SiteSettings,
    Source,
    SupportTerms,
    TaxRule,
    TicketExamples,
)
from cmskb.content.render import (
    answer_html,
    escape_md,
    localize_links,
    per_ticket,
    render_pages,
    render_plans,
    yen,
)
from cmskb.feed import build_rss, rfc822
from content_helpers import SEED_PRICES

SRC = Source("test.yml", 1)
CONDITIONS = ("オンサイト対応はしません", "期限切れのチケットは使えません")
TICKET_RULE = "1案件ごとに所定のチケットが必要です。"
HOSTILE = '<script>alert("x")</script> *強調* _下線_ [リンク](http://evil.example) | 1. `code` & #'

# The seed's price table: code, name, months, minor version-up, tickets, yen excl. tax.
SEED_PLANS = [(code, *row) for code, row in SEED_PRICES.items()]


def make_plan(code: str, name: str, months: int, mvu: bool, tickets: int, price: int) -> Plan:
    kind = {"H": PlanKind.ADDON, "I": PlanKind.SPOT}.get(code, PlanKind.CONTRACT)
    audience = {
        PlanKind.ADDON: Audience.CONTRACT_HOLDERS,
        PlanKind.SPOT: Audience.NON_CONTRACT_HOLDERS,
    }.get(kind, Audience.ANYONE)
    return Plan(code, name, kind, months, mvu, tickets, price, audience, "", SRC)


def make_question(qid: str, category: str = "install", **changes: object) -> Question:
    fields: dict[str, object] = {
        "id": qid,
        "category": category,
        "question": f"{qid} について教えてください。",
        "answer": f"{qid} の回答です。\n\n- 手順1\n- 手順2\n",
        "products": ("cloud",),
        "tags": ("導入",),
        "related": (),
        "updated": dt.date(2026, 10, 1),
        "draft": False,
        "source": SRC,
    }
    fields.update(changes)
    return Question(**fields)  # type: ignore[arg-type]


def make_content(
    questions: tuple[Question, ...] | None = None,
    news: tuple[NewsItem, ...] | None = None,
    rounding: Rounding = Rounding.FLOOR,
    plans: list[tuple[str, str, int, bool, int, int]] | None = None,
) -> Content:
    site = SiteSettings(
        name="CMSKIT サポート",
        description="テスト用のサポートサイトです。",
        products=(Product("cloud", "CMSKITクラウド"), Product("asp", "CMSKIT-ASP")),
        support_hours="当社営業日 9:00〜17:00",
        forum_url="https://forum.example/",
        forms=FormLinks(),
        source=SRC,
    )
    table = PlanTable(
        tax=TaxRule(Decimal("0.10"), rounding),
        plans=tuple(make_plan(*row) for row in (plans or SEED_PLANS)),
        notes=("注1)価格は[こちら](/support/#conditions)もご覧ください。",),
        source=SRC,
        rules=FinderRules(ticket_rule=TICKET_RULE, version_ups_without_contract=("cloud",)),
    )
    if questions is None:
        questions = (
            make_question("install-requirements", products=("cloud", "asp"), related=("login",)),
            make_question("login", category="users", question=HOSTILE),
            make_question("secret-draft", draft=True),
        )
    if news is None:
        news = (  # newest first, as the loader gives them (Content.news)
            NewsItem(
                "new-news", dt.date(2026, 10, 15), "新しいお知らせ", "本文。", "リリース", SRC
            ),
            NewsItem("old-news", dt.date(2026, 1, 5), "古いお知らせ", "本文です。", None, SRC),
        )
    return Content(
        site=site,
        plans=table,
        recommendations=(
            RecommendationCase("skilled", "ITの担当者がいる", ("A", "G"), "理由です。", SRC),
        ),
        ticket_examples=TicketExamples(("操作のご説明",), ("テンプレート修正",), (), SRC),
        support=SupportTerms(
            free=FreeSupport(
                "無償の概要", (ServiceItem("ニュース", "最新情報"),), "対象者", ("個別対応",)
            ),
            paid=PaidSupport(
                "有償の概要",
                (ServiceItem("お問い合わせ", "メールと電話"),),
                ("メール", "電話"),
                CONDITIONS,
            ),
            source=SRC,
        ),
        categories=(
            Category("install", "インストール", "導入について", SRC),
            Category("users", "ユーザー", "ユーザー管理について", SRC),
        ),
        questions=questions,
        news=news,
    )


def to_html(text: str) -> str:
    """Render a generated page the way the site does (front matter stripped)."""
    body = text.split("---\n", 2)[2] if text.startswith("---\n") else text
    return markdown.markdown(body, extensions=["attr_list", "md_in_html", "tables", "toc"])


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return render_pages(make_content())


def test_every_page_of_the_url_contract_is_rendered(pages: dict[str, str]) -> None:
    assert set(pages) == {
        "index.md",
        "faq/index.md",
        "faq/category/install/index.md",
        "faq/category/users/index.md",
        "faq/install-requirements/index.md",
        "faq/login/index.md",
        "news/index.md",
        "news/old-news/index.md",
        "news/new-news/index.md",
        "plans/index.md",
        "plans/guide/index.md",
        "plans/tickets/index.md",
        "support/index.md",
    }


def test_drafts_are_not_published(pages: dict[str, str]) -> None:
    assert not any("secret-draft" in text for text in pages.values())


@pytest.mark.parametrize(("rounding", "excl", "incl"), [
    (Rounding.FLOOR, 80001, 88001),  # 88001.1 -> 88001
    (Rounding.CEIL, 80001, 88002),
    (Rounding.HALF_UP, 80005, 88006),  # 88005.5 -> 88006
])
def test_tax_rule_is_data(rounding: Rounding, excl: int, incl: int) -> None:
    plans = [("A", "1年間サポート(8チケット付)", 12, True, 8, excl)]
    content = make_content(rounding=rounding, plans=plans)
    assert f"<strong>{yen(incl)}</strong>" in render_plans(content)


def test_price_table_shows_seed_prices_with_and_without_tax(pages: dict[str, str]) -> None:
    html = to_html(pages["plans/index.md"])
    rows = re.findall(r"<tr>\s*(.*?)</tr>", html, re.S)
    cells: dict[str, list[str]] = {}
    for row in rows:
        header = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if header:  # the plan (code, name), then its values, each with its column's label
            code, name = re.findall(r"<(?:a|span) [^>]*>(.*?)</(?:a|span)>", header[1])
            values = re.findall(r'<td[^>]*data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S)
            cells[code] = [name] + [re.sub(r"<[^>]+>", "", v) for _, v in values]
            assert [label for label, _ in values] == [
                "料金(税込)", "料金(税別)", "1チケットあたり(税込)", "付属チケット", "有効期間",
                "マイナーバージョンアップ",
            ]
    assert set(cells) == set("ABCDEFGHI")
    for code, name, months, mvu, tickets, excl in SEED_PLANS:
        row = cells[code]
        incl = excl * 110 // 100
        assert row[0] == name
        assert row[1] == f"{incl:,}円"
        assert row[2] == f"{excl:,}円"
        assert row[4] == f"{tickets}枚"
        assert row[5] == ("1ヶ月" if months == 1 else f"{months // 12}年")
        assert row[6] == ("あり" if mvu else "なし")
    assert cells["A"][1] == "88,000円"
    assert cells["A"][3] == "11,000円"  # 88,000 / 8
    assert cells["B"][3] == "約9,778円"  # 176,000 / 18 = 9,777.7…
    assert cells["I"][3] == "13,200円"


def test_per_ticket_price_is_exact_or_marked_approximate() -> None:
    table = make_content().plans
    assert per_ticket(table, table.plan("D")) == "8,250円"  # 330,000 / 40
    assert per_ticket(table, table.plan("G")) == "38,500円"  # 308,000 / 8
    assert per_ticket(table, table.plan("E")) == "7,700円"  # 462,000 / 60
    assert per_ticket(table, table.plan("C")) == "8,800円"  # 264,000 / 30
    assert per_ticket(table, table.plan("F")) == "7,150円"  # 572,000 / 80


def test_plans_page_links_plans_notes_and_free_vs_paid(pages: dict[str, str]) -> None:
    html = to_html(pages["plans/index.md"])
    for code in "ABCDEFGHI":
        assert f'id="plan-{code.lower()}"' in html
    assert 'href="../support/index.md#conditions"' in html  # the note's site link, localized
    assert "無償の概要" in html and "有償の概要" in html
    assert 'class="grid cards"' in html


def test_hostile_question_text_renders_as_text(pages: dict[str, str]) -> None:
    page = pages["faq/login/index.md"]
    html = to_html(page)
    h1 = re.search(r"<h1 id=\"login\">(.*?)</h1>", html, re.S)
    assert h1 is not None
    assert "<script>" not in html and "<em>" not in html and "<code>" not in html
    assert "evil.example" not in re.findall(r'href="([^"]*)"', html)
    text = h1.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert text.replace("&amp;", "&") == HOSTILE
    # the front matter title is HTML-escaped (the theme writes it into <title> unescaped)
    title = json.loads(page.split("\n")[1].removeprefix("title: "))
    assert "<" not in title and "&lt;script&gt;" in title
    # the category page lists it as a link whose text is escaped
    category = to_html(pages["faq/category/users/index.md"])
    assert "<script>" not in category and "&lt;script&gt;" in category


@pytest.mark.parametrize("text", ["*a*", "_a_", "[a](b)", "<b>x</b>", "# h", "1. x", "`c`", "a\\b"])
def test_escape_md_round_trips_through_markdown(text: str) -> None:
    html = markdown.markdown(escape_md(text))
    expected = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert html == f"<p>{expected}</p>"


def test_question_page_has_breadcrumbs_products_date_tags_related(pages: dict[str, str]) -> None:
    html = to_html(pages["faq/install-requirements/index.md"])
    crumbs = re.search(r'<nav aria-label="パンくずリスト"[^>]*>(.*?)</nav>', html, re.S)
    assert crumbs is not None
    assert re.findall(r'href="([^"]+)"', crumbs.group(1)) == [
        "../../index.md",
        "../../faq/index.md",
        "../../faq/category/install/index.md",
    ]
    assert '<h1 id="install-requirements">' in html
    assert "CMSKITクラウド、CMSKIT-ASP" in html
    assert '<time datetime="2026-10-01">2026年10月1日</time>' in html
    assert '<span class="kb-tag">導入</span>' in html
    assert '<a href="../login/index.md">' in html


def test_answer_html_is_cut_between_markers(pages: dict[str, str]) -> None:
    html = to_html(pages["faq/install-requirements/index.md"])
    answer = answer_html(html)
    assert answer is not None
    assert answer.startswith("<p>install-requirements の回答です。</p>")
    assert "<li>手順2</li>" in answer and "このご質問について" not in answer


def test_news_is_newest_first_everywhere(pages: dict[str, str]) -> None:
    for uri in ("news/index.md", "index.md"):
        text = pages[uri]
        assert text.index("新しいお知らせ") < text.index("古いお知らせ")


def test_home_leads_to_forms_forum_and_categories(pages: dict[str, str]) -> None:
    html = to_html(pages["index.md"])
    links = re.findall(r'href="([^"]+)"', html)
    for target in ("/forms/feedback/", "/forms/docs-request/", "/forms/status/",
                   "https://forum.example/", "faq/category/install/index.md",
                   "news/new-news/index.md"):
        assert target in links


def test_guide_links_each_recommended_plan(pages: dict[str, str]) -> None:
    html = to_html(pages["plans/guide/index.md"])
    assert '<a href="../index.md#plan-a">A: 1年間サポート(8チケット付)</a>' in html
    assert '<a href="../index.md#plan-g">G: 5年間サポート(8チケット付)</a>' in html


def test_support_page_lists_conditions(pages: dict[str, str]) -> None:
    html = to_html(pages["support/index.md"])
    for text in (*CONDITIONS, "当社営業日 9:00〜17:00", "メール", "電話"):
        assert text in html
    # the tickets-per-case rule of plans.yml comes first, with an anchor to link to
    conditions = html.split('id="conditions"', 1)[1]
    assert conditions.index(f'<span id="ticket-rule">{TICKET_RULE}</span>') < conditions.index(
        CONDITIONS[0])


def test_tickets_page_states_the_ticket_rule(pages: dict[str, str]) -> None:
    assert TICKET_RULE in to_html(pages["plans/tickets/index.md"])


def test_localize_links() -> None:
    text = "[a](/faq/x/) [b](/plans/#notes) [c](/forms/feedback/) [d](https://e.example/)"
    assert localize_links(text, "faq/y/index.md") == (
        "[a](../x/index.md) [b](../../plans/index.md#notes) "
        "[c](/forms/feedback/) [d](https://e.example/)"
    )


def test_yaml_folded_japanese_has_no_stray_spaces() -> None:
    assert escape_md("サポート\nサイト CMSKIT 5.3") == "サポートサイト CMSKIT 5\\.3"


def test_rss_feed_parses_and_is_rfc822() -> None:
    content = make_content()
    data = build_rss(
        title="t",
        description="d",
        site_url="https://s.example/",
        feed_url="https://s.example/news/feed.xml",
        items=content.news,
        item_url=lambda n: f"https://s.example/news/{n.id}/",
    )
    ET.fromstring(data)
    feed = feedparser.parse(data)
    assert not feed.bozo
    assert [e.link for e in feed.entries] == [
        "https://s.example/news/new-news/",
        "https://s.example/news/old-news/",
    ]
    assert rfc822(dt.date(2026, 10, 15)) == "Thu, 15 Oct 2026 10:00:00 +0900"
    assert feed.entries[0].published_parsed[:3] == (2026, 10, 15)


def test_plans_page_carries_the_finder_once_with_its_assumption() -> None:
    from cmskb import site_files

    plans = site_files.generate(make_content()).pages["plans/index.md"]
    assert plans.count('id="plan-finder"') == 1
    finder = plans.split("{#finder}", 1)[1]
    assert "サポート契約は同時に1つだけ持ち" in finder.split('id="pf-rules"', 1)[1]


def test_home_page_has_no_title_of_its_own(pages: dict[str, str]) -> None:
    front = pages["index.md"].split("---\n", 2)[1]
    assert "title:" not in front and "description:" in front
