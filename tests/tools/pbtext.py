"""Parser for protobuf text format as printed by `protoc --decode` (stdlib only).

Reads the `*.decoded.txt` references that come with the third-party captures:

    common {
      method: "WebcastChatMessage"
      msgId: 7286185101407357702
    }
    user {
      nickname: "Alarc\\303\\263n755k"
    }
    7: 1

Grammar handled: `name { ... }` / `name < ... >` (optionally `name: {`),
`name: scalar`, `#` comments; names are identifiers, numbers (unknown
fields print as their number) or `[extension.names]`.  Scalars: double- or
single-quoted strings with C escapes (\\n \\t \\" \\\\ ..., octal \\NNN and hex
\\xHH are raw bytes, so `\\360\\237\\224\\245` is the UTF-8 of one emoji;
\\uXXXX / \\UXXXXXXXX are code points), adjacent strings concatenate; integers
(decimal, negative, 0x hex), floats (incl. inf/nan), and identifiers (enum
names; `true`/`false` become bool).

Result: a Msg, an ordered list of (name, value) pairs where value is a Msg,
bytes (quoted strings, exactly as on the wire), int, float, bool or str
(other identifiers).  Repeated fields are repeated pairs.

SPDX-License-Identifier: MIT
"""

import re


class ParseError(ValueError):
    """Syntax error, with 1-based line number."""


class Msg:
    """One message: ordered (name, value) pairs plus lookup helpers."""

    __slots__ = ("fields",)

    def __init__(self, fields=None):
        self.fields = fields if fields is not None else []

    def all(self, name):
        """Every value of field `name`, in order."""
        return [v for n, v in self.fields if n == name]

    def get(self, name, default=None):
        """First value of field `name` (default if absent)."""
        for n, v in self.fields:
            if n == name:
                return v
        return default

    def has(self, name):
        return any(n == name for n, _ in self.fields)

    def path(self, dotted, default=None):
        """First value along a dotted path of first occurrences: 'data.user.id'."""
        cur = self
        for part in dotted.split("."):
            if not isinstance(cur, Msg):
                return default
            cur = cur.get(part, _MISSING)
            if cur is _MISSING:
                return default
        return cur

    def names(self):
        return [n for n, _ in self.fields]

    def __len__(self):
        return len(self.fields)

    def __repr__(self):
        return "Msg(%r)" % (self.fields,)

    def __eq__(self, other):
        return isinstance(other, Msg) and self.fields == other.fields


_MISSING = object()


def text(value):
    """A quoted-string value (bytes) as str (UTF-8; invalid bytes replaced)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


# --- tokenizer -------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f\v]+|\#[^\n]*)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<ext>\[[A-Za-z0-9_./]+\])
  | (?P<num>-?(?:0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)
            |-?(?:inf|infinity|nan)\b)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}<>:;,])
    """,
    re.VERBOSE,
)

_SIMPLE_ESC = {
    "n": b"\n", "t": b"\t", "r": b"\r", "a": b"\a", "b": b"\b",
    "f": b"\f", "v": b"\v", "\\": b"\\", "'": b"'", '"': b'"', "?": b"?",
}


def unescape(body):
    """Decode the inside of a quoted string (C escapes) to bytes."""
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            # Literal characters: protoc escapes every non-ASCII byte, but be
            # lenient and accept raw UTF-8 text too.
            out += c.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= n:
            raise ValueError("dangling backslash")
        c = body[i]
        if c in _SIMPLE_ESC:
            out += _SIMPLE_ESC[c]
            i += 1
        elif c in "01234567":
            j = i
            while j < n and j - i < 3 and body[j] in "01234567":
                j += 1
            out.append(int(body[i:j], 8) & 0xFF)
            i = j
        elif c in "xX":
            j = i + 1
            while j < n and j - i - 1 < 2 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 1:
                raise ValueError("\\x without hex digits")
            out.append(int(body[i + 1:j], 16))
            i = j
        elif c in "uU":
            width = 4 if c == "u" else 8
            hexs = body[i + 1:i + 1 + width]
            if len(hexs) != width or not re.fullmatch(r"[0-9A-Fa-f]+", hexs):
                raise ValueError("bad \\%s escape" % c)
            out += chr(int(hexs, 16)).encode("utf-8", "surrogatepass")
            i += 1 + width
        else:
            raise ValueError("unknown escape \\%s" % c)
    return bytes(out)


def _tokens(src):
    """Yield (kind, text, line) tokens, skipping whitespace and comments."""
    pos = 0
    line = 1
    n = len(src)
    while pos < n:
        m = _TOKEN_RE.match(src, pos)
        if not m:
            raise ParseError("line %d: unexpected character %r" % (line, src[pos]))
        kind = m.lastgroup
        tok = m.group()
        if kind != "ws":
            yield kind, tok, line
        line += tok.count("\n")
        pos = m.end()


def _number(tok):
    t = tok.lower()
    if t.lstrip("-") in ("inf", "infinity"):
        return float("-inf") if t.startswith("-") else float("inf")
    if t.lstrip("-") == "nan":
        return float("nan")
    neg = t.startswith("-")
    body = t[1:] if neg else t
    if body.startswith("0x"):
        v = int(body, 16)
        return -v if neg else v
    if re.fullmatch(r"\d+", body):
        return int(t)
    return float(t.rstrip("f"))


# --- parser ----------------------------------------------------------------

def parse(src):
    """Parse text-format source into a Msg."""
    toks = list(_tokens(src))
    msg, pos = _parse_fields(toks, 0, None)
    if pos != len(toks):
        raise ParseError("line %d: unexpected %r" % (toks[pos][2], toks[pos][1]))
    return msg


def parse_file(path):
    with open(path, "r", encoding="utf-8") as f:
        return parse(f.read())


def _parse_fields(toks, pos, closer):
    """Parse fields until `closer` ('}' / '>' / None = end of input)."""
    msg = Msg()
    n = len(toks)
    while True:
        if pos >= n:
            if closer is not None:
                raise ParseError("unexpected end of input, missing %r" % closer)
            return msg, pos
        kind, tok, line = toks[pos]
        if closer is not None and kind == "punct" and tok == closer:
            return msg, pos + 1
        if kind == "punct" and tok in ";,":
            pos += 1  # optional separators
            continue
        if kind == "ident" or kind == "ext" or (kind == "num" and re.fullmatch(r"\d+", tok)):
            name = tok
        else:
            raise ParseError("line %d: expected field name, got %r" % (line, tok))
        pos += 1
        if pos >= n:
            raise ParseError("line %d: field %s without value" % (line, name))
        kind, tok, line = toks[pos]
        if kind == "punct" and tok == ":":
            pos += 1
            if pos >= n:
                raise ParseError("line %d: field %s without value" % (line, name))
            kind, tok, line = toks[pos]
        if kind == "punct" and tok in "{<":
            sub, pos = _parse_fields(toks, pos + 1, "}" if tok == "{" else ">")
            msg.fields.append((name, sub))
            continue
        if kind == "str":
            data = bytearray()
            while pos < n and toks[pos][0] == "str":
                try:
                    data += unescape(toks[pos][1][1:-1])
                except ValueError as e:
                    raise ParseError("line %d: %s" % (toks[pos][2], e))
                pos += 1
            msg.fields.append((name, bytes(data)))
            continue
        if kind == "num":
            msg.fields.append((name, _number(tok)))
            pos += 1
            continue
        if kind == "ident":
            val = {"true": True, "false": False, "True": True, "False": False}.get(tok, tok)
            msg.fields.append((name, val))
            pos += 1
            continue
        raise ParseError("line %d: bad value %r for %s" % (line, tok, name))
