"""Typed reading of YAML nodes, recording a Problem (file, line, field) for every bad value.

Each reader returns the value, or None when the value is missing or wrong (the problem is
already recorded, so callers just carry on and the loader reports everything at the end).
Passing None as the node means "already reported as missing" and returns None quietly.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from .problems import Problem

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_MAX = 64
_DECIMAL_INT_RE = re.compile(r"[+-]?(?:0|[1-9][0-9_]*)")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONSTRUCTOR = SafeConstructor()
E = TypeVar("E", bound=StrEnum)

_QUOTE_HINT = '文字として書くときは "{text}" のように引用符で囲んでください。'
_BOOL_HINT = "YAML では yes/no/on/off/true/false は真偽値として読まれます。" + _QUOTE_HINT


def join(field: str, key: str) -> str:
    """The path of `key` inside `field`: ``plans[2]`` + ``tickets`` → ``plans[2].tickets``."""
    return f"{field}.{key}" if field else key


def index(field: str, i: int) -> str:
    return f"{field}[{i}]"


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _short(text: str, limit: int = 30) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(node: yaml.Node) -> str:
    """What a node is, in the editors' words, with its text: ``文字列 "80,000"``."""
    if isinstance(node, yaml.MappingNode):
        return "「キー: 値」の対応表"
    if isinstance(node, yaml.SequenceNode):
        return "リスト"
    text = _short(node.value)
    return {
        STR: f'文字列 "{text}"',
        INT: f"整数 {text}",
        FLOAT: f"小数 {text}",
        BOOL: f"真偽値 {text}",
        NULL: "空の値",
        TIMESTAMP: f"日付 {text}",
    }.get(node.tag, f"値 {text}")


class FieldReader:
    """Reads the values of one file; problems go to the shared list."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    # -- recording ---------------------------------------------------------------------

    def report(self, line: int | yaml.Node, field: str, message: str, hint: str = "") -> None:
        if isinstance(line, yaml.Node):
            line = line_of(line)
        self.problems.append(Problem(self.file, line, field, message, hint))

    def _wrong_type(self, node: yaml.Node, field: str, expected: str, hint: str = "") -> None:
        if not hint and isinstance(node, yaml.ScalarNode):
            if node.tag == BOOL:
                hint = _BOOL_HINT.format(text=node.value)
            elif node.tag == NULL:
                hint = "値を書いてください。"
        if not hint:
            hint = f"{expected}を書いてください。"
            if expected == "文字列":
                hint = (
                    "1 つの文字列として書いてください"
                    "(複数行の文章は「|」の次の行から字下げして書きます)。"
                )
        self.report(
            node, field, f"{expected}が必要ですが、{describe(node)} が書かれています。", hint
        )

    # -- containers --------------------------------------------------------------------

    def mapping(
        self,
        node: yaml.Node | None,
        field: str,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> dict[str, yaml.Node] | None:
        """Keys of a mapping node, checking duplicates, unknown and missing keys."""
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self._wrong_type(node, field, "「キー: 値」の対応表")
            return None
        required = tuple(required)
        known = required + tuple(optional)
        values: dict[str, yaml.Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.report(
                    key_node, field, "キーには文字を書きます。", "キーの書き方を確かめてください。"
                )
                continue
            key = key_node.value
            path = join(field, key)
            if key in first_line:
                self.report(
                    key_node,
                    path,
                    f'キー "{key}" が同じ場所に 2 回書かれています'
                    f"(最初は {first_line[key]} 行目)。",
                    "YAML では後の値だけが使われ、前の値は黙って捨てられます。"
                    "どちらか一方を消してください。",
                )
                continue
            first_line[key] = line_of(key_node)
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = (
                    f'"{close[0]}" の書き間違いではありませんか。'
                    if close
                    else f"使えるキーは {', '.join(known)} です。"
                )
                self.report(key_node, path, f'不明なキー "{key}" があります。', hint)
                continue
            values[key] = value_node
        for key in required:
            if key not in values and key not in first_line:
                self.report(
                    node,
                    join(field, key),
                    f'必須の項目 "{key}" がありません。',
                    f'"{key}: ..." を書き足してください。',
                )
        return values

    def sequence(
        self, node: yaml.Node | None, field: str, *, min_items: int = 0
    ) -> list[yaml.Node] | None:
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
                if min_items == 0:
                    return []
                self.report(
                    node,
                    field,
                    f"{min_items} 個以上の項目のリストが必要ですが、値が空です。",
                    "「- 項目」の形で 1 行に 1 つずつ書いてください。",
                )
                return None
            self._wrong_type(
                node,
                field,
                "リスト",
                "「- 項目」の形で 1 行に 1 つずつ書くか、[a, b] のように書いてください。",
            )
            return None
        if len(node.value) < min_items:
            self.report(
                node,
                field,
                f"{min_items} 個以上の項目が必要ですが、{len(node.value)} 個しかありません。",
                "項目を書き足してください。",
            )
        return list(node.value)

    # -- scalars -----------------------------------------------------------------------

    def text(self, node: yaml.Node | None, field: str) -> str | None:
        """A non-empty string (whitespace-only is empty)."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
            hint = ""
            if isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT, TIMESTAMP):
                hint = "数字や日付だけの値は文字列になりません。" + _QUOTE_HINT.format(
                    text=node.value
                )
            self._wrong_type(node, field, "文字列", hint)
            return None
        if not node.value.strip():
            self.report(
                node,
                field,
                "文字列が必要ですが、空です。",
                "内容を書くか、任意の項目ならキーごと削除してください。",
            )
            return None
        text: str = node.value
        return text

    def texts(
        self, node: yaml.Node | None, field: str, *, min_items: int = 0
    ) -> tuple[str, ...] | None:
        items = self.sequence(node, field, min_items=min_items)
        if items is None:
            return None
        values = [self.text(item, index(field, i)) for i, item in enumerate(items)]
        return tuple(v for v in values if v is not None)

    def integer(
        self, node: yaml.Node | None, field: str, *, minimum: int | None = None
    ) -> int | None:
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            if not _DECIMAL_INT_RE.fullmatch(node.value):
                self.report(
                    node,
                    field,
                    f'10 進の整数が必要ですが、"{node.value}" と書かれています。',
                    "先頭の 0 や 0x などを付けずに、80000 のように数字だけを書いてください。",
                )
                return None
            value = int(node.value)
        else:
            hint = ""
            if isinstance(node, yaml.ScalarNode) and node.tag == STR:
                digits = re.sub(r"[,\s円¥￥]", "", node.value)
                if digits.isascii() and digits.isdigit():
                    hint = (
                        "カンマや「円」、引用符を付けずに "
                        f"{int(digits)} のように数字だけを書いてください。"
                    )
            elif isinstance(node, yaml.ScalarNode) and node.tag == FLOAT:
                hint = "小数点のない整数を書いてください。"
            self._wrong_type(node, field, "整数", hint)
            return None
        if minimum is not None and value < minimum:
            self.report(
                node,
                field,
                f"{minimum} 以上の整数が必要ですが、{value} と書かれています。",
                f"{minimum} 以上の値にしてください。",
            )
            return None
        return value

    def boolean(self, node: yaml.Node | None, field: str) -> bool | None:
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        self._wrong_type(
            node,
            field,
            "真偽値(true または false)",
            "引用符を付けずに true か false と書いてください。",
        )
        return None

    def date(self, node: yaml.Node | None, field: str) -> dt.date | None:
        """A calendar date, written ``2026-10-01`` (quoted or not)."""
        if node is None:
            return None
        example = "2026-10-01 のように 年-月-日 で書いてください。"
        if isinstance(node, yaml.ScalarNode) and node.tag == TIMESTAMP:
            try:
                value = _CONSTRUCTOR.construct_yaml_timestamp(node)
            except (ValueError, ConstructorError) as exc:
                self._no_such_date(node, field, exc)
                return None
            if isinstance(value, dt.datetime):
                self.report(
                    node,
                    field,
                    f'日付が必要ですが、時刻付きの "{node.value}" が書かれています。',
                    "時刻を消して " + example,
                )
                return None
            return value
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == STR
            and _ISO_DATE_RE.fullmatch(node.value)
        ):
            try:
                return dt.date.fromisoformat(node.value)
            except ValueError as exc:
                self._no_such_date(node, field, exc)
                return None
        self._wrong_type(node, field, "日付(年-月-日)", example)
        return None

    def _no_such_date(self, node: yaml.ScalarNode, field: str, exc: Exception) -> None:
        self.report(
            node,
            field,
            f'存在しない日付 "{node.value}" が書かれています({exc})。',
            "月と日を確かめてください。",
        )

    def decimal(self, node: yaml.Node | None, field: str) -> Decimal | None:
        """A number read exactly from its text (never through float)."""
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT):
            try:
                value = Decimal(node.value.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is not None and value.is_finite():
                return value
        hint = "0.10 のように小数で書いてください(% は付けません)。"
        if isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT):
            self.report(node, field, f'数値が必要ですが、"{node.value}" と書かれています。', hint)
        else:
            self._wrong_type(node, field, "数値", hint)
        return None

    def choice(self, node: yaml.Node | None, field: str, enum: type[E]) -> E | None:
        """One of the values of a StrEnum."""
        if node is None:
            return None
        allowed = [member.value for member in enum]
        if isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value in allowed:
            return enum(node.value)
        found = node.value if isinstance(node, yaml.ScalarNode) else ""
        close = difflib.get_close_matches(found, allowed, n=1, cutoff=0.6) if found else []
        hint = f'"{close[0]}" の書き間違いではありませんか。' if close else ""
        self.report(
            node,
            field,
            f"{' / '.join(allowed)} のどれかが必要ですが、{describe(node)} が書かれています。",
            hint or f"{' / '.join(allowed)} のどれかを書いてください。",
        )
        return None

    def ident(self, node: yaml.Node | None, field: str) -> str | None:
        """A URL-safe ASCII id: lower-case letters, digits and single hyphens."""
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag in (INT, TIMESTAMP, BOOL, FLOAT):
            self._wrong_type(
                node,
                field,
                "ID(英小文字・数字・ハイフンの文字列)",
                _QUOTE_HINT.format(text=node.value),
            )
            return None
        value = self.text(node, field)
        if value is None:
            return None
        if not ID_RE.fullmatch(value) or len(value) > ID_MAX:
            suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
            hint = (
                "英小文字・数字・ハイフンだけを使い、ハイフンを先頭・末尾・連続で使わないでください"
            )
            hint += f"({ID_MAX} 文字まで)。"
            if suggestion and suggestion != value and ID_RE.fullmatch(suggestion):
                hint += f' 例: "{suggestion}"'
            self.report(
                node,
                field,
                f'URL に使える ID が必要ですが、"{_short(value)}" と書かれています。',
                hint,
            )
            return None
        return value

    def url(self, node: yaml.Node | None, field: str) -> str | None:
        """An absolute http(s) URL."""

        def ok(value: str) -> bool:
            parts = urlsplit(value)
            return parts.scheme in ("http", "https") and bool(parts.netloc)

        return self._checked_text(
            node, field, ok, "http:// か https:// で始まる URL が必要",
            "https://example.jp/forum/ のように完全な URL を書いてください。",
        )

    def site_path(self, node: yaml.Node | None, field: str) -> str | None:
        """A path on the site: starts and ends with a slash."""
        return self._checked_text(
            node, field, lambda value: value.startswith("/") and value.endswith("/"),
            "/ で始まり / で終わるサイト内のパスが必要",
            "/forms/feedback/ のように書いてください。",
        )

    def _checked_text(
        self,
        node: yaml.Node | None,
        field: str,
        ok: Callable[[str], bool],
        needed: str,
        hint: str,
    ) -> str | None:
        """A text without white space that `ok` accepts; `needed` says what for editors."""
        value = self.text(node, field)
        if value is None or node is None:
            return None
        if not ok(value) or any(c.isspace() for c in value):
            self.report(
                node, field, f'{needed}ですが、"{_short(value)}" と書かれています。', hint
            )
            return None
        return value
