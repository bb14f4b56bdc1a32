"""The shipped content grown to N questions, for benchmarks that need a large site.

The shipped questions stay as they are (their pages are what the search benchmark's
queries must find); the rest are written from a CMS help centre's vocabulary: parts of a
site that no shipped question is about, with everyday actions and problems, in titles
("CMSKIT-ASPでバナーを一括変更したい場合の手順を教えてください", "フッターが表示されない
ときの確認事項"), and answers of the shipped ones' length that mention the shipped topics in
passing ("テンプレートの設定によっては、Cronの表示が変わることがあります"). So every query
meets thousands of pages that share its words, and the page about its subject has to win
over pages that only mention it. Deterministic (seeded), so every engine sees one site.

    .venv/bin/python bench/grow_content.py 10000 /tmp/content-10k
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRODUCTS = ("cloud", "asp", "webcanvas", "onprem-perpetual", "onprem-annual")
PRODUCT_NAMES = ("CMSKITクラウド", "CMSKIT-ASP", "ウェブキャンバス", "導入型ライセンス")
# What the added questions are about: parts of a CMS site that no shipped question is about,
# so that each shipped question stays the one page whose subject a query names.
SUBJECTS = (
    "記事", "カテゴリ", "ページ", "メニュー", "フッター", "ヘッダー", "パンくずリスト",
    "サイトマップ", "サイト内検索", "バナー", "スライダー", "多言語サイト", "スマートフォン表示",
    "文字コード", "ドメイン", "SSL証明書", "公開日", "下書き", "プレビュー", "テーマ",
    "ウィジェット", "コメント欄", "アンケート", "動画", "PDF", "ファイル", "一覧ページ",
    "検索結果", "404ページ", "見出し", "表組み", "地図", "カレンダー", "イベント情報",
    "求人情報", "会員ページ", "ダウンロードファイル", "目次", "本文", "段落", "文字サイズ",
    "背景色", "リダイレクト", "URL", "公開範囲", "更新履歴", "差分表示", "RSS", "トップページ",
)
# What their answers mention in passing: those subjects and the shipped questions' topics.
MENTIONS = (
    *SUBJECTS,
    "テンプレート", "ユーザー", "権限", "承認フロー", "パスワード", "メールアドレス",
    "自動リンク", "Cron", "予約公開", "アクセス解析タグ", "スタイルシート", "CSS", "HTML",
    "JavaScript", "専用タグ", "ロゴ", "画像", "グループ", "ブラウザ", "サーバー", "管理画面",
    "バックアップ", "サポートチケット", "マイナーバージョンアップ", "ソーシャルメディア",
)
ACTIONS = (
    "追加", "削除", "変更", "設定", "確認", "移行", "復元", "一括変更", "公開", "非公開に",
    "並べ替え", "差し替え", "編集", "複製", "書き出し", "取り込み", "初期化", "再設定",
)
PROBLEMS = (
    "表示されない", "反映されない", "動かない", "エラーになる", "文字化けする", "遅い",
    "崩れる", "消えてしまった", "保存できない", "開けない", "重複してしまう", "見つからない",
    "うまくいかない", "おかしい", "古いままになる",
)
TITLES = (
    "{p}で{o}を{a}したい場合の手順を教えてください",
    "{o}の{a}について教えてください",
    "{o}が{x}ときの確認事項",
    "{p}の{o}が{x}のですが、どうすればよいですか",
    "{o}と{o2}を同時に{a}できますか",
    "{o}の{a}はサポートに依頼できますか",
    "{p}で{o}が{x}",
    "{o}を{a}したあと{o2}が{x}",
)
SENTENCES = (
    "{o}の{a}は、管理画面の設定から行えます。",
    "{o}が{x}場合は、まず{o2}の設定を確認してください。",
    "変更のあとは、プレビューで{o}の表示を確かめてから公開してください。",
    "{p}では、{o}の扱いがほかの製品と異なることがあります。ご契約時の資料をご確認ください。",
    "{o}の{a}を作業としてご依頼いただく場合は、サポートチケットを消費します。",
    "うまくいかないときは、{o}と{m}の組み合わせを見直してください。",
    "{m}を{a}すると、{o}にも影響することがあります。",
    "{o}の設定によっては、{m}の表示が変わることがあります。",
    "個別の調査が必要な場合は、有償サポートでお答えします。",
)


def _question(rng: random.Random, number: int, category: str) -> tuple[str, str]:
    """(file name, YAML) of one synthetic question."""
    words = {
        "p": rng.choice(PRODUCT_NAMES),
        "o": rng.choice(SUBJECTS),
        "o2": rng.choice(SUBJECTS),
        "m": rng.choice(MENTIONS),
        "a": rng.choice(ACTIONS),
        "x": rng.choice(PROBLEMS),
    }
    title = rng.choice(TITLES).format(**words) + f"(事例{number})"
    sentences = [rng.choice(SENTENCES).format(**words) for _ in range(rng.randint(3, 6))]
    answer = "".join(sentences[: len(sentences) // 2]) + "\n\n  " + "".join(
        sentences[len(sentences) // 2 :]
    )
    products = sorted(set(rng.sample(PRODUCTS, rng.randint(1, 3))))
    qid = f"grown-{number:05d}"
    text = (
        f"id: {qid}\n"
        f"question: {title}\n"
        "answer: |\n"
        f"  {answer}\n"
        f"products: [{', '.join(products)}]\n"
        f"tags: [{words['o']}, {words['o2']}]\n"
        f"updated: 2026-{number % 12 + 1:02d}-{number % 28 + 1:02d}\n"
    )
    return f"{category}/{qid}.yml", text


def grow(target: Path, questions: int, *, seed: int = 2026) -> int:
    """Copy content/ to `target` and add questions up to `questions` in all; the count added."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "content", target)
    categories = sorted(p.name for p in (target / "faq").iterdir() if p.is_dir())
    shipped = sum(1 for _ in (target / "faq").glob("*/*.yml"))
    rng = random.Random(seed)
    added = max(0, questions - shipped)
    for number in range(added):
        name, text = _question(rng, number, categories[number % len(categories)])
        (target / "faq" / name).write_text(text, encoding="utf-8")
    return added


if __name__ == "__main__":
    count = grow(Path(sys.argv[2]), int(sys.argv[1]))
    print(f"added {count} questions in {sys.argv[2]}")
