"""Decoding of string, bytes and number literals (CEL's escapes and prefixes).

Errors carry a position but no source; the parser attaches the source.
"""

from __future__ import annotations

import re

from .errors import ExpressionSyntaxError
from .values import INT64_MAX, UINT64_MAX, UInt

_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\?\"'`])|[xX]([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})"
    r"|U([0-9a-fA-F]{8})|([0-3][0-7]{2})|(.?))",
    re.DOTALL,
)
_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "?": "?",
    '"': '"',
    "'": "'",
    "`": "`",
}


_SURROGATE = re.compile("[\ud800-\udfff]")


def find_surrogate(text: str) -> int:
    """Index of the first lone surrogate code point in `text`, or -1.

    Python strings can hold them (JSON's `"\\ud800"` decodes to one), but they are not
    Unicode text: they cannot be encoded as UTF-8, so regexes, bytes and storage fail.
    """
    if text.isascii():
        return -1
    match = _SURROGATE.search(text)
    return -1 if match is None else match.start()


def surrogate_message(text: str, index: int) -> str:
    code = ord(text[index])
    return (
        f"lone surrogate U+{code:04X} is not a valid character; "
        "write the character itself or a \\U escape of a real code point"
    )


class _LiteralError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def decode_quoted(text: str, pos: int) -> str | bytes:
    """Decode a STRING token (with optional `b`/`r` prefixes) into str or bytes."""
    i = 0
    is_bytes = is_raw = False
    while text[i] not in "'\"":
        if text[i] in "bB":
            is_bytes = True
        else:
            is_raw = True
        i += 1
    quote = 3 if text.startswith(text[i] * 3, i) and len(text) - i >= 6 else 1
    body_start = i + quote
    body = text[body_start : len(text) - quote]
    try:
        if is_raw:
            return body.encode("utf-8", "surrogatepass") if is_bytes else body
        return _unescape(body, is_bytes)
    except _LiteralError as exc:
        raise ExpressionSyntaxError(exc.message, pos + body_start + exc.offset) from None


def _unescape(body: str, is_bytes: bool) -> str | bytes:
    if "\\" not in body:
        return body.encode("utf-8") if is_bytes else body
    out_bytes = bytearray()
    out_text: list[str] = []
    last = 0
    pending_high: tuple[int, int] | None = None  # (code unit, offset) of a \u high surrogate
    for m in _ESCAPE.finditer(body):
        plain = body[last : m.start()]
        if plain and pending_high is not None:
            raise _LiteralError("unpaired surrogate in \\u escape", pending_high[1])
        if is_bytes:
            out_bytes += plain.encode("utf-8")
        else:
            out_text.append(plain)
        last = m.end()
        simple, hx, u4, u8, octal, bad = m.groups()
        if bad is not None:
            what = f"\\{bad}" if bad else "\\ at end of literal"
            raise _LiteralError(f"invalid escape sequence {what!r}", m.start())
        if simple is not None:
            code = ord(_SIMPLE[simple])
        elif hx is not None:
            code = int(hx, 16)
        elif octal is not None:
            code = int(octal, 8)
        else:
            if is_bytes:
                raise _LiteralError("\\u and \\U escapes are not allowed in bytes", m.start())
            code = int(u4 or u8, 16)
            if u4 is not None and 0xD800 <= code <= 0xDBFF:
                if pending_high is not None:
                    raise _LiteralError("unpaired surrogate in \\u escape", pending_high[1])
                pending_high = (code, m.start())
                continue
            if u4 is not None and 0xDC00 <= code <= 0xDFFF:
                if pending_high is None:
                    raise _LiteralError("unpaired surrogate in \\u escape", m.start())
                code = 0x10000 + ((pending_high[0] - 0xD800) << 10) + (code - 0xDC00)
                pending_high = None
            elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _LiteralError("invalid code point in \\U escape", m.start())
        if pending_high is not None:
            raise _LiteralError("unpaired surrogate in \\u escape", pending_high[1])
        if is_bytes:
            out_bytes.append(code)
        else:
            out_text.append(chr(code))
    if pending_high is not None:
        raise _LiteralError("unpaired surrogate in \\u escape", pending_high[1])
    tail = body[last:]
    if is_bytes:
        out_bytes += tail.encode("utf-8")
        return bytes(out_bytes)
    out_text.append(tail)
    return "".join(out_text)


# Longer than any 64-bit literal, even zero-padded past it: refused before int() (which
# refuses more than 4,300 decimal digits with an error of its own).
_MAX_LITERAL_CHARS = 100


def _digits(text: str) -> tuple[str, int]:
    """The literal's digits past its 0x and its leading zeros, and their base (int()
    refuses more than 4,300 decimal digits, leading zeros included)."""
    if text[:2] in ("0x", "0X"):
        return text[2:].lstrip("0") or "0", 16
    return text.lstrip("0") or "0", 10


def decode_int(text: str, pos: int, negated: bool = False) -> int:
    digits, base = _digits(text)
    if len(digits) > _MAX_LITERAL_CHARS:
        raise ExpressionSyntaxError("integer literal out of int64 range", pos)
    value = int(digits, base)
    limit = INT64_MAX + 1 if negated else INT64_MAX
    if value > limit:
        raise ExpressionSyntaxError("integer literal out of int64 range", pos)
    return -value if negated else value


def decode_uint(text: str, pos: int) -> UInt:
    digits, base = _digits(text[:-1])
    if len(digits) > _MAX_LITERAL_CHARS:
        raise ExpressionSyntaxError("uint literal out of uint64 range", pos)
    value = int(digits, base)
    if value > UINT64_MAX:
        raise ExpressionSyntaxError("uint literal out of uint64 range", pos)
    return UInt(value)
