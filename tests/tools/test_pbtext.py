#!/usr/bin/env python3
"""Self-test for pbtext.py (protoc text format) and pbwire.py (wire helpers).

Hand-written cases for the grammar and the escapes, a wire round trip of
push_frame(), and, when the third-party captures are present, a parse of every
`*.decoded.txt` there with a few spot checks of known values (ending with
`N passed, N failed`; exit 1 on any failure).

    python3 tests/tools/test_pbtext.py [-v]

SPDX-License-Identifier: MIT
"""

import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import pbtext  # noqa: E402
import pbwire  # noqa: E402
from captures import CAPS  # noqa: E402


RESULTS = {"passed": 0, "failed": 0}
VERBOSE = "-v" in sys.argv


def check(name, got, want):
    if got == want and type(got) is type(want):
        RESULTS["passed"] += 1
        if VERBOSE:
            print("ok   %s" % name)
    else:
        RESULTS["failed"] += 1
        print("FAIL %s: got %r, want %r" % (name, got, want))


def check_raises(name, fn, exc):
    try:
        fn()
    except exc:
        RESULTS["passed"] += 1
        if VERBOSE:
            print("ok   %s" % name)
        return
    except Exception as e:  # wrong exception type
        RESULTS["failed"] += 1
        print("FAIL %s: raised %r, want %s" % (name, e, exc.__name__))
        return
    RESULTS["failed"] += 1
    print("FAIL %s: no exception, want %s" % (name, exc.__name__))


def test_grammar():
    m = pbtext.parse('common {\n  method: "WebcastChatMessage"\n  msgId: 7286185101407357702\n}\n'
                     'user {\n  id: 7092388241522312197\n  nickname: "Alarc\\303\\263n755k"\n}\n'
                     'content: "hi"\n')
    check("nested string", pbtext.text(m.path("common.method")), "WebcastChatMessage")
    check("uint64 exact", m.path("common.msgId"), 7286185101407357702)
    check("octal escapes are UTF-8 bytes", pbtext.text(m.path("user.nickname")), "Alarc\u00f3n755k")
    check("raw bytes kept", m.path("user.nickname"), b"Alarc\xc3\xb3n755k")
    check("top-level order", m.names(), ["common", "user", "content"])
    check("missing path default", m.path("user.displayId", "none"), "none")
    check("path through scalar", m.path("content.x"), None)

    m = pbtext.parse('nickname: "\\360\\237\\224\\245\\360\\237\\207\\256"')
    check("4-byte emoji via octal", pbtext.text(m.get("nickname")), "\U0001F525\U0001F1EE")

    m = pbtext.parse(r'''s: "a\nb\tc\"d\\e\'f\x41\101\?" t: 'single "q"' ''')
    check("C escapes", m.get("s"), b'a\nb\tc"d\\e\'fAA?')
    check("single-quoted string", m.get("t"), b'single "q"')
    check("\\u escape", pbtext.parse(r's: "\u00e9\U0001F600"').get("s"), "\u00e9\U0001F600".encode("utf-8"))
    check("adjacent strings concatenate", pbtext.parse('s: "ab" "cd"\n  "ef"').get("s"), b"abcdef")
    check("empty string", pbtext.parse('s: ""').get("s"), b"")
    check("raw UTF-8 accepted", pbtext.parse('s: "\u00e9"').get("s"), b"\xc3\xa9")

    m = pbtext.parse("a: -1 b: 0x1F c: 1.5 d: -2.5e3 e: true f: false g: ENUM_NAME h: 18446744073709551615 i: inf")
    check("negative int", m.get("a"), -1)
    check("hex int", m.get("b"), 31)
    check("float", m.get("c"), 1.5)
    check("float exponent", m.get("d"), -2500.0)
    check("true", m.get("e"), True)
    check("false", m.get("f"), False)
    check("enum identifier", m.get("g"), "ENUM_NAME")
    check("uint64 max", m.get("h"), 18446744073709551615)
    check("inf", m.get("i"), float("inf"))

    m = pbtext.parse("r: 1\nr: 2\nx { r: 3 }\nr: 4\n7: 1\n5 { 1: \"z\" }\n")
    check("repeated scalars", m.all("r"), [1, 2, 4])
    check("unknown numeric field", m.get("7"), 1)
    check("unknown numeric group", pbtext.text(m.path("5.1")), "z")
    check("has", (m.has("x"), m.has("y")), (True, False))

    m = pbtext.parse("a < b: 1 > c: { d: 2 } # comment\n e: 3; f: 4,")
    check("angle brackets", m.path("a.b"), 1)
    check("colon before brace", m.path("c.d"), 2)
    check("comment, separators", (m.get("e"), m.get("f")), (3, 4))
    check("empty message", len(pbtext.parse("payGrade {\n}\n").get("payGrade")), 0)
    check("empty input", len(pbtext.parse("  \n")), 0)

    check_raises("unclosed brace", lambda: pbtext.parse("a { b: 1"), pbtext.ParseError)
    check_raises("stray close", lambda: pbtext.parse("a: 1 }"), pbtext.ParseError)
    check_raises("missing value", lambda: pbtext.parse("a:"), pbtext.ParseError)
    check_raises("bad escape", lambda: pbtext.parse(r's: "\q"'), pbtext.ParseError)
    check_raises("unterminated string", lambda: pbtext.parse('s: "abc'), pbtext.ParseError)


def test_wire():
    for n in (0, 1, 127, 128, 300, 2 ** 32, 2 ** 53 + 1, 2 ** 64 - 1):
        v, pos = pbwire.read_varint(pbwire.varint(n), 0)
        check("varint round trip %d" % n, (v, pos), (n, len(pbwire.varint(n))))
    check("varint 300 bytes", pbwire.varint(300), b"\xac\x02")
    check("negative as 10-byte varint", len(pbwire.varint(-1)), 10)
    check("key", pbwire.key(8, 2), b"\x42")

    inner = pbwire.f_bytes(1, pbwire.f_bytes(1, "WebcastChatMessage")) + pbwire.f_bytes(3, "hi")
    frame = pbwire.push_frame("WebcastChatMessage", inner, log_id=42)
    fields = list(pbwire.iter_fields(frame))
    check("frame fields", [(f, wt) for f, wt, _ in fields], [(2, 0), (6, 2), (7, 2), (8, 2)])
    check("frame logId", fields[0][2], 42)
    check("frame encoding", fields[1][2], b"pb")
    check("frame type", fields[2][2], b"msg")
    entry = pbwire.first_field(fields[3][2], 1, pbwire.WT_LEN)
    check("entry method", pbwire.first_field(entry, 1, pbwire.WT_LEN), b"WebcastChatMessage")
    check("entry payload", pbwire.first_field(entry, 2, pbwire.WT_LEN), inner)
    check("v1-style frame without encoding",
          [f for f, _, _ in pbwire.iter_fields(pbwire.push_frame("M", b"", encoding=None))], [2, 7, 8])
    check("common_method", pbwire.common_method(inner), "WebcastChatMessage")
    check("common_method absent", pbwire.common_method(pbwire.f_varint(2, 1)), None)
    check("common_method garbage", pbwire.common_method(b"\x0a\xff"), None)
    check_raises("truncated", lambda: list(pbwire.iter_fields(b"\x0a\x05ab")), pbwire.WireError)


def test_captures():
    """Every captured oracle parses; spot checks of known values."""
    if not os.path.isdir(CAPS):
        print("SKIPPED: ../shared/captures not found (%s): no capture parse checks" % CAPS)
        return
    files = sorted(glob.glob(os.path.join(CAPS, "*", "*.decoded.txt"))
                   + glob.glob(os.path.join(CAPS, "*", "*", "*.decoded.txt")))
    for f in files:
        base = os.path.basename(f)
        if base.startswith("WebcastPushFrame_reconstructed"):
            continue  # hand-annotated (payload: <N bytes ...>), not protoc output
        try:
            m = pbtext.parse_file(f)
        except pbtext.ParseError as e:
            check("parse %s" % base, str(e), "no error")
            continue
        method = pbtext.text(m.path("common.method"))
        want = base.split(".")[0].split("_")[0]
        if want == "WebcastSystemMessage":
            want = "SystemMessage"  # captured payloads carry the unprefixed name
        check("common.method of %s" % base, method, want)

    s = os.path.join(CAPS, "tiktoklivejava-event-logs", "samples")
    m = pbtext.parse_file(os.path.join(s, "WebcastChatMessage.decoded.txt"))
    check("sample chat nickname", pbtext.text(m.path("user.nickname")), "Alarc\u00f3n755k")
    check("sample chat user id", m.path("user.id"), 7092388241522312197)
    check("sample chat commentQualityScores", len(m.all("commentQualityScores")), 18)
    m = pbtext.parse_file(os.path.join(s, "WebcastSystemMessage.decoded.txt"))
    check("unknown field 7 of SystemMessage", m.get("7"), 1)
    m = pbtext.parse_file(os.path.join(s, "WebcastLinkMicArmies.decoded.txt"))
    check("armies map entries", [a.get("key") for a in m.all("armies")], [7195253152986547205, 6953610941431841794])
    check("army nickname emoji", pbtext.text(m.all("armies")[1].path("value").all("userArmies")[0].get("nickname")),
          "krugens\U0001F338")
    m = pbtext.parse_file(os.path.join(s, "WebcastLikeMessage.decoded.txt"))
    check("like count/total", (m.get("count"), m.get("total")), (15, 90961))

    # The reconstructed frame's payload oracle: the part after the marker is protoc text.
    p = os.path.join(CAPS, "tiktoklivejava-test-resources", "WebcastPushFrame_reconstructed.payload.decoded.txt")
    with open(p, encoding="utf-8") as f:
        inner = f.read().split("---- inner WebcastLikeMessage ----", 1)[1]
    m = pbtext.parse(inner)
    check("reconstructed frame inner method", pbtext.text(m.path("common.method")), "WebcastLikeMessage")


def main():
    test_grammar()
    test_wire()
    test_captures()
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
