"""Receipt numbers: 60 random bits in Crockford base32, shown as ``XXXX-XXXX-XXXX``.

Crockford's alphabet has no I, L, O or U, so a receipt read aloud or copied by hand is hard
to get wrong; when parsing, the look-alikes are mapped back (I, L -> 1, O -> 0).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12  # 12 symbols x 5 bits = 60 bits
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]+")
_SHAPE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_receipt() -> str:
    """A fresh unguessable receipt number (one 60-bit draw), grouped for reading."""
    bits = secrets.randbits(5 * LENGTH)
    symbols = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(5 * (LENGTH - 1), -1, -5))
    return format_receipt(symbols)


def format_receipt(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, LENGTH, 4))


def parse_receipt(raw: str) -> str | None:
    """The canonical receipt for what a person typed, or None if it cannot be one."""
    text = unicodedata.normalize("NFKC", raw)
    symbols = _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)
    if not _SHAPE.match(symbols):
        return None
    return format_receipt(symbols)
