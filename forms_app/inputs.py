"""The one rule for text that people send: what may be in a field or a query parameter.

Every text field of the forms, every query parameter of every route and every text a
reviewer posts goes through `problem()`: no NUL or other control characters (tab, and line
breaks in multi-line fields, excepted), no C1 controls, no bidirectional overrides or
isolates (they make text read differently from what is stored), no line or paragraph
separators in one-line values, no U+FFFD (what an invalid UTF-8 byte decodes to: the text
was damaged on its way), and a bounded length. The same characters are escaped by
`terminal_safe` wherever stored text is printed on a terminal.
"""

from __future__ import annotations

import re

# Longest query-parameter value any route reads (a search word, a date, a receipt, a path).
MAX_QUERY_CHARS = 1000

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Characters refused everywhere (tab and line breaks are decided by `multiline`).
_ALWAYS = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}\ufffd\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\\r\\n\u2028\u2029]")

CONTROL_MESSAGE = (
    "表示できない制御文字や、文字の向きを変える記号が含まれています。取り除いてから送信してください。"
)
DAMAGED_MESSAGE = (
    "文字化けした文字(�)が含まれています。元の文章からもう一度貼り付けてください。"
)
LINE_BREAK_MESSAGE = "この欄には改行を入れられません。1行で入力してください。"


def problem(value: str, *, multiline: bool = False, limit: int | None = None) -> str | None:
    """The Japanese message for what is wrong with `value`, or None when it is fine."""
    found = _ALWAYS.search(value)
    if found is not None:
        return DAMAGED_MESSAGE if found.group() == "\ufffd" else CONTROL_MESSAGE
    if not multiline and _LINE_BREAKS.search(value):
        return LINE_BREAK_MESSAGE
    if limit is not None and len(value) > limit:
        return f"{limit:,}文字以内で入力してください(現在 {len(value):,}文字)。"
    return None


def is_clean(value: str, *, multiline: bool = False) -> bool:
    """True when `problem` finds nothing (length not checked)."""
    return problem(value, multiline=multiline) is None


_SPLIT_LINES = re.compile("\r\n|[\r\n\u2028\u2029]")
_ESCAPED = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: object) -> str:
    """`value` as text a terminal shows as it is: control characters, C1, bidirectional
    controls and line breaks written as visible escapes (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _ESCAPED.sub(_escape, str(value))


def terminal_lines(value: object) -> list[str]:
    """Multi-line text for a terminal: one escaped line per line of the text."""
    return [terminal_safe(line) for line in _SPLIT_LINES.split(str(value))]


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}  ]")


def json_terminal_safe(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with what `terminal_safe` escapes written as
    ``\\uXXXX``: the same JSON value, nothing a terminal acts on (json escapes C0 itself)."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
