"""Reading one YAML file into a PyYAML node tree, which keeps the line of every value.

Composing (not constructing) keeps each scalar's original text and its position, so the
loader can report lines, read the tax rate as a Decimal from its text and notice duplicate
keys that ``yaml.safe_load`` silently drops. The C parser is used when PyYAML has libyaml.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .problems import Problem

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("\\t", "字下げにタブ文字は使えません。半角スペースで字下げしてください。"),
    ("tab character", "字下げにタブ文字は使えません。半角スペースで字下げしてください。"),
    (
        "mapping values are not allowed",
        "値の中に「: 」(コロンと空白)があるなら、値全体を引用符で囲むか「|」を使った"
        "複数行の書き方にしてください。そうでなければ、この行の字下げが前の行とそろっているかを確かめてください。",
    ),
    (
        "undefined alias",
        "「*」で始まる値は YAML のエイリアスとして読まれます。"
        "文字として書くときは引用符で囲んでください。",
    ),
    (
        "cannot start any token",
        "「@」「`」「%」などで始まる値は引用符で囲んでください。字下げにタブを使っていないかも確かめてください。",
    ),
    (
        "single document",
        "1 つのファイルには 1 つの文書だけを書きます。途中の「---」を消してください。",
    ),
    (
        "could not find expected ':'",
        "「キー: 値」の形になっているか(コロンの後に半角スペース)、"
        "字下げがそろっているかを確かめてください。",
    ),
    (
        "expected <block end>",
        "字下げがそろっていません。同じ階層のキーや「- 」は同じ位置から書き始めてください。",
    ),
    (
        "while scanning a quoted scalar",
        "引用符が閉じられていません。値の最後にも同じ引用符を書いてください。",
    ),
)
_DEFAULT_SYNTAX_HINT = (
    "この行かその少し前の行の字下げ、引用符、コロンの後の半角スペースを確かめてください。"
)


def _syntax_hint(text: str) -> str:
    for needle, hint in _SYNTAX_HINTS:
        if needle in text:
            return hint
    return _DEFAULT_SYNTAX_HINT


def read_yaml(path: Path, rel: str, problems: list[Problem]) -> yaml.Node | None:
    """The node tree of one file, or None after recording why it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(
            Problem(
                rel,
                0,
                "",
                f"ファイルを読めません({exc.strerror})。",
                "ファイルの権限を確かめてください。",
            )
        )
        return None
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(
            Problem(
                rel,
                line,
                "",
                "UTF-8 として読めない文字があります。",
                "エディタで文字コードを UTF-8 にして保存し直してください"
                "(Shift_JIS などは使えません)。",
            )
        )
        return None
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # where the unfinished quote or block began
        line = mark.line + 1 if mark is not None else 0
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        problems.append(
            Problem(
                rel,
                line,
                "",
                f"YAML の書き方に誤りがあります({detail})。",
                _syntax_hint(detail),
            )
        )
        return None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.append(
            Problem(
                rel,
                line,
                "",
                f"YAML に使えない制御文字 (#x{exc.character:04x}) があります。",
                "テキストエディタで開き、見えない文字を消して UTF-8 で保存し直してください。",
            )
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(
            Problem(rel, 0, "", f"YAML として読めません({exc})。", _DEFAULT_SYNTAX_HINT)
        )
        return None
    if node is None:
        problems.append(
            Problem(
                rel,
                1,
                "",
                "ファイルが空です。",
                "項目を書くか、不要ならファイルを削除してください。",
            )
        )
    return node
