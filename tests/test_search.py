"""The site search: what a query finds, over an index built from small hand-written sites.

Pages are written as a builder writes them (head, navigation, an article); the index is
built by `cmskb.search.site.index_site`, and queries are answered by the browser engine
itself (kb-search-engine.js) under Node, with what it fetches recorded.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cmskb.content.model import SearchSettings
from cmskb.search.analyze import count_terms
from cmskb.search.extract import page_text
from cmskb.search.site import index_site
from conftest import require_service
from search_node import NODE, SearchEngine

NAV = "<nav><ul><li><a href='/'>ホーム</a></li><li>パスワード 料金 契約更新</li></ul></nav>"


def html(title: str, body: str, *, keywords: str = "", head: str = "") -> str:
    """A page as a builder writes it: navigation around an article."""
    meta = f'<meta name="keywords" content="{keywords}">' if keywords else ""
    return (
        f"<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>{title}</title>"
        f"{meta}{head}</head><body>{NAV}<main><article>"
        f'<h1 id="top">{title}<a class="headerlink" href="#top">¶</a></h1>{body}'
        "</article></main></body></html>"
    )


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for url, text in pages.items():
        target = root / url / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


PAGES = {
    "": html("サポートサイト", "<p>よくあるご質問とお知らせです。</p>"),
    "faq/password/": html(
        "パスワードを忘れた場合",
        "<p>管理画面のパスワードは、管理者が再設定できます。</p>",
        keywords="ログインできない",
    ),
    "faq/renewal/": html("契約更新の手続き", "<p>契約は期間の終わりに更新します。</p>"),
    "faq/browser/": html("ブラウザーの表示", "<p>表示が崩れるときはブラウザーを確認します。</p>"),
    "faq/folder/": html("フォルダの整理", "<p>ファイルはフォルダに分けて置きます。</p>"),
    "faq/cron/": html("Cron設定を間違えた", "<p>予約公開が動かないときは Cron を確認します。</p>"),
    "faq/prices/": html("料金の一覧", "<p>税込の料金を掲載しています。</p>"),
    "faq/delete/": html(
        "記事を消してしまったとき", "<p>誤って記事を消した場合は、履歴から戻せます。</p>"
    ),
    "faq/write/": html("記事の書き方", "<p>記事は本文と見出しで書きます。</p>"),
    "faq/halfwidth/": html("ｻﾎﾟｰﾄの窓口", "<p>ｻﾎﾟｰﾄへの連絡方法です。</p>"),
    "faq/related/": html(
        "ロゴの差し替え",
        "<p>ロゴは画像を差し替えて変えます。</p>"
        "<div data-search-exclude><h2 id='rel'>関連</h2><div><p>ユニコーン 一角獣</p></div></div>"
        "<p>最後の段落です。</p>",
    ),
    "faq/long/": html(
        "料金プランの詳細",
        "<p>プランの説明です。</p><h2 id='plan-g'>プランG</h2><p>長期の保守契約ペガサスです。</p>",
    ),
    "hidden/": html(
        "隠しページ", "<p>ユニコーンの秘密</p>", head='<meta name="robots" content="noindex">'
    ),
    "editors/": html("編集ガイド", "<p>ユニコーンの書き方</p>"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchEngine]:
    require_service("node", NODE is not None, "Node.js runs the browser engine in these tests")
    site = write_site(tmp_path_factory.mktemp("site"), PAGES)
    settings = SearchSettings(synonyms=(("料金", "値段", "価格"),), exclude=("/editors/",))
    index_site(site, settings)
    running = SearchEngine(site)
    yield running
    running.close()


def found(engine: SearchEngine, query: str) -> list[str]:
    return engine.search(query)["pages"]


# --- Japanese done right ------------------------------------------------------------------


@pytest.mark.service
def test_a_word_inside_a_compound_finds_it(engine: SearchEngine) -> None:
    assert found(engine, "更新")[0] == "/faq/renewal/"
    assert found(engine, "契約更新")[0] == "/faq/renewal/"


@pytest.mark.service
@pytest.mark.parametrize(
    ("query", "page"),
    [("ブラウザ", "/faq/browser/"), ("ブラウザー", "/faq/browser/"),
     ("フォルダ", "/faq/folder/"), ("フォルダー", "/faq/folder/")],
)
def test_long_vowel_variants_find_each_other(engine: SearchEngine, query: str, page: str) -> None:
    assert found(engine, query)[0] == page


@pytest.mark.service
@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("ＣＲＯＮ", "/faq/cron/"),
        ("ｃｒｏｎ設定", "/faq/cron/"),
        ("サポートの窓口", "/faq/halfwidth/"),
    ],
)
def test_full_width_and_half_width_letters(engine: SearchEngine, query: str, page: str) -> None:
    assert found(engine, query)[0] == page


@pytest.mark.service
def test_colloquial_phrasing_ranks_the_page_that_holds_every_idea(engine: SearchEngine) -> None:
    # both pages speak of 記事; only one of them of 消して
    assert found(engine, "記事を消してしまった")[0] == "/faq/delete/"
    assert found(engine, "記事の書き方")[0] == "/faq/write/"


@pytest.mark.service
@pytest.mark.parametrize("particle", ["を", "い", "が", "の"])
def test_a_particle_alone_matches_nothing(engine: SearchEngine, particle: str) -> None:
    assert found(engine, particle) == []


@pytest.mark.service
def test_only_function_words_in_common_is_no_result(engine: SearchEngine) -> None:
    assert found(engine, "ｘｙｚｚｙが存在しない") == []


@pytest.mark.service
def test_hiragana_typed_for_a_katakana_word(engine: SearchEngine) -> None:
    assert found(engine, "ぱすわーど")[0] == "/faq/password/"


@pytest.mark.parametrize(("query", "page"), [("cr", "/faq/cron/"), ("Cro", "/faq/cron/"),
                                             ("税", "/faq/prices/"), ("パス", "/faq/password/")])
@pytest.mark.service
def test_a_word_being_typed_finds_its_page(engine: SearchEngine, query: str, page: str) -> None:
    assert page in found(engine, query)[:2]


# --- what editors control -------------------------------------------------------------------


@pytest.mark.service
def test_synonyms_find_the_page_that_uses_another_word(engine: SearchEngine) -> None:
    assert found(engine, "値段")[0] == "/faq/prices/"
    assert found(engine, "価格を知りたい")[0] == "/faq/prices/"
    assert engine.search("値段", synonyms=False)["pages"] == []


@pytest.mark.service
def test_keywords_find_a_page_whose_text_lacks_them(engine: SearchEngine) -> None:
    assert found(engine, "ログインできない")[0] == "/faq/password/"


@pytest.mark.service
def test_excluded_parts_and_pages_are_not_searched(engine: SearchEngine) -> None:
    # the related list, a noindex page and a page excluded in search.yml all say ユニコーン
    assert found(engine, "ユニコーン") == []
    assert found(engine, "最後の段落")[0] == "/faq/related/"
    assert found(engine, "ロゴ")[0] == "/faq/related/"


@pytest.mark.service
def test_navigation_and_permalinks_are_not_searched(engine: SearchEngine) -> None:
    assert found(engine, "ホーム") == []
    assert found(engine, "¶") == []


@pytest.mark.service
def test_a_match_in_a_section_leads_to_its_heading(engine: SearchEngine) -> None:
    answer = engine.search("ペガサス")
    assert answer["pages"] == ["/faq/long/"]
    assert any(p.endswith("/faq/long/#plan-g") for p in answer["locations"])


# --- what the browser fetches ----------------------------------------------------------------


@pytest.mark.service
def test_a_query_fetches_its_shards_and_its_results_only(tmp_path: Path) -> None:
    require_service("node", NODE is not None, "Node.js runs the browser engine in these tests")
    many = {
        f"faq/q{i}/": html(f"質問{i}の題名", f"<p>本文{i}では語{i}ごとに違う話{i}をします。</p>")
        for i in range(600)
    }
    site = write_site(tmp_path, many)
    stats = index_site(site, SearchSettings())
    engine = SearchEngine(site)
    try:
        answer = engine.search("質問17")
    finally:
        engine.close()
    assert answer["pages"][0] == "/faq/q17/"
    shards = {p for p in answer["fetched"] if "/t/" in p}
    chunks = {p for p in answer["fetched"] if "/d/" in p}
    assert 0 < len(shards) <= 4 < stats.shards
    assert 0 < len(chunks) <= 3


def test_every_part_is_precompressed_and_a_new_build_replaces_the_old(tmp_path: Path) -> None:
    site = write_site(tmp_path, {"faq/a/": html("最初の題名", "<p>本文</p>")})
    first = index_site(site, SearchSettings())
    parts = [p for p in (site / "search" / "kb").rglob("*") if p.is_file()]
    for part in parts:
        if part.suffix == ".gz":
            assert gzip.decompress(part.read_bytes()) == part.with_suffix("").read_bytes()
    manifest = json.loads((site / "search" / "kb" / "manifest.json").read_text("utf-8"))
    assert manifest["build"] == first.build_id
    stub = json.loads((site / "search" / "search_index.json").read_text("utf-8"))
    assert stub["docs"] == [] and stub["config"]["lang"] == ["ja"]

    write_site(site, {"faq/a/": html("次の題名", "<p>本文</p>")})
    second = index_site(site, SearchSettings())
    assert second.build_id != first.build_id
    assert [p.name for p in (site / "search" / "kb").iterdir() if p.is_dir()] == [second.build_id]
    assert index_site(site, SearchSettings()).build_id == second.build_id  # same site, same id


# --- the two sides agree ---------------------------------------------------------------------

TEXTS = [
    "契約更新の手続きについて",
    "ＣＭＳＫＩＴ　５．３のＣｒｏｎ設定",
    "ｻﾎﾟｰﾄﾁｹｯﾄ ﾌﾞﾗｳｻﾞｰ",
    "ブラウザー、フォルダー、キー、サーバー、ユーザーー",
    "パスワードを忘れてしまった!? 2026年12月7日",
    "々 〆 ヶ月 𠮷野家 🍣 é café naïve",
    "HTML/CSS/JavaScriptの修正 (¥13,200)",
    "ぁぃぅ ァィゥ ヴァイオリン ヷ",
    "",
]


@pytest.mark.service
def test_python_and_the_browser_split_text_into_the_same_terms() -> None:
    require_service("node", NODE is not None, "Node.js runs the browser engine in these tests")
    site = Path(__file__).parent  # any folder: no index is read
    engine = SearchEngine(site)
    try:
        for text in TEXTS:
            assert engine.terms(text) == dict(count_terms(text)), text
    finally:
        engine.close()


# --- reading built pages ------------------------------------------------------------------


def test_page_text_reads_title_keywords_and_sections() -> None:
    page = page_text(
        "faq/x/",
        html(
            "題名",
            "<p>前文<strong>強調</strong>です</p><h2 id='a'>見出し<em>A</em></h2><p>本文A</p>"
            "<h3 id='b'>見出しB</h3><p>本文B</p><script>var x = 'ユニコーン';</script>"
            "<form><label>入力</label></form>",
            keywords="鍵1, 鍵2,",
        ).encode(),
    )
    assert page is not None
    assert page.title == "題名" and page.keywords == ("鍵1", "鍵2")
    assert [(s.anchor, s.heading, s.text) for s in page.sections] == [
        (None, "題名", "前文強調です"),
        ("a", "見出しA", "本文A"),
        ("b", "見出しB", "本文B"),
    ]


def test_nested_excluded_elements_are_removed_whole() -> None:
    page = page_text(
        "x/",
        html(
            "題名", "<div data-search-exclude><div><div>内側</div></div>まだ内側</div><p>外側</p>"
        ).encode(),
    )
    assert page is not None
    assert page.sections[0].text == "外側"


def test_counting_terms() -> None:
    assert count_terms("契約更新") == Counter({"契約": 1, "約更": 1, "更新": 1})
    assert count_terms("を") == Counter()
    assert count_terms("税") == Counter({"税": 1})
    assert count_terms("Cron設定") == Counter({"cron": 1, "設定": 1})
