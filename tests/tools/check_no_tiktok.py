#!/usr/bin/env python3
"""No test or tool configuration can reach TikTok.

1. A bridge or tt-connect pointed at the simulator with web_base still has its other defaults,
   and the direct path's push_base is TikTok's own edge (wss://webcast-ws.tiktok.com): since
   sign_flow = auto is the default, a configuration that names web_base must also name
   push_base or a signed sign_flow (this caught tools/bench_e2e.py, whose benchmark and smoke
   run went for TikTok's edge first).
2. A configuration may use TikTok's own host names only through the `resolve` option, which
   maps them to loopback (tests/connector/hostile.py gives the simulator those names): every
   URL on a tiktok.com host with a port (`http://www.tiktok.com:%s`), and every base key set
   to a tiktok.com URL, needs an entry `host:port:127.x.x.x` (or ::1) for that host and port in
   the same file, written out; and no resolve entry may map a name anywhere but loopback. A
   tiktok.com URL without a port outside a base key (an expected Referer header) is no
   configuration.

Reads every test driver and tool (.py, .sh, .js under tests/ and tools/), and every example a
reader copies: each fenced code block of the Markdown pages and each .nf/.fi block of the man
pages (the replay example of docs/bridge.md and tt-connect's in docs/libtiktok.md once named
web_base alone). First checks itself on written-in samples that must pass and fail. Ends with
`N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAFE = re.compile(r"push_base|sign_flow\s*=\s*(euler|legacy|session)|sign_flow=(euler|legacy|session)")
HOST = r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}"  # a name with a dot: www.tiktok.com, evil.example
TIKTOK = r"(?:[A-Za-z0-9-]+\.)*tiktok\.com"
PORT = r"\d+|%[sd]|\{\w*\}|\$\{\w*\}"  # a number or a placeholder of the driver's language
# a URL on a TikTok host with a port (the port may be a placeholder: %s, {port}, %d)
URL_PORT = re.compile(r"(?:https?|wss?)://(%s):(%s)" % (TIKTOK, PORT))
ADDR = r"\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*"
# a base key set straight to a TikTok URL without a port: the real host's 443 or 80
KEY_URL = re.compile(r"(?:web_base|webcast_base|push_base|sign_api_url)\s*=\s*[\"']?"
                     r"(https?|wss?)://(%s)(?![\w.:-])" % TIKTOK)
# a resolve entry: host:port:address
ENTRY = re.compile(r"(?<![\w./:-])(%s):(%s):(%s)" % (HOST, PORT, ADDR))
LOOPBACK = re.compile(r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[?::1\]?)$")


def problems(text):
    """what makes this text a configuration that could reach TikTok ([] if none)"""
    out = []
    if "web_base" in text and not SAFE.search(text):
        out.append("sets web_base but neither push_base nor a signed sign_flow: its "
                   "connections would try TikTok's own push edge")
    entries = [(h.lower(), p, a) for h, p, a in ENTRY.findall(text)]
    for h, p, a in entries:
        if not LOOPBACK.match(a):
            out.append("resolve maps %s:%s to %s, which is not loopback" % (h, p, a))
    mapped = {(h, p) for h, p, a in entries if LOOPBACK.match(a)}
    wanted = {(h.lower(), p) for h, p in URL_PORT.findall(text)}
    wanted |= {(h.lower(), "443" if s in ("https", "wss") else "80") for s, h in
               KEY_URL.findall(text)}
    for h, p in sorted(wanted - mapped):
        out.append("uses TikTok's host %s (port %s) without a resolve entry mapping it to "
                   "loopback" % (h, p))
    return out


# (text, must it pass?)
SAMPLES = [
    ('web_base=http://127.0.0.1:9 sign_flow=euler', True),
    ('web_base=http://127.0.0.1:9', False),
    ('"web_base=http://www.tiktok.com:%s" % port, "sign_flow=euler"', False),
    ('"web_base=http://www.tiktok.com:%s" % port, "sign_flow=euler", '
     '"resolve=www.tiktok.com:%s:127.0.0.1" % port', True),
    ('"web_base=http://www.tiktok.com:%s" % port, "sign_flow=euler", '
     '"resolve=www.tiktok.com:%s:10.1.2.3" % port', False),
    ('"web_base=http://www.tiktok.com:%s" % port, "sign_flow=euler", '
     '"resolve=www.tiktok.com:80:127.0.0.1"', False),
    ('web_base = https://www.tiktok.com\npush_base = ws://127.0.0.1:9', False),
    ('web_base = https://www.tiktok.com\npush_base = ws://127.0.0.1:9\n'
     'resolve = www.tiktok.com:443:[::1]', True),
    ('check(referer == "https://www.tiktok.com/")', True),
    ('"resolve=evil.example:%s:127.0.0.1" % port', True),
    ('"resolve=evil.example:%s:192.0.2.1" % port', False),
]


def files():
    for top in ("tests", "tools"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".py", ".sh", ".js")) and n != os.path.basename(__file__):
                    yield os.path.join(d, n)


def doc_pages():
    """the pages whose examples readers copy: Markdown outside build/ and node_modules, man"""
    for d, subdirs, names in os.walk(ROOT):
        subdirs[:] = [s for s in subdirs if s not in ("build", "node_modules") and
                      not s.startswith(".")]
        for n in names:
            if n.endswith(".md") or (os.path.basename(d) == "man" and n[-2:-1] == "."):
                yield os.path.join(d, n)


def examples(text, man):
    """(first line, text) of each example block: ``` fences, or a man page's .nf to .fi"""
    open_, close = (".nf", ".fi") if man else ("```", "```")
    start = None
    for i, line in enumerate(text.split("\n"), 1):
        if start is None and line.lstrip().startswith(open_):
            start, block = i, []
        elif start is not None and line.lstrip().startswith(close):
            yield start, "\n".join(block)
            start = None
        elif start is not None:
            block.append(line)


def main():
    passed = failed = 0
    for text, ok in SAMPLES:
        if (not problems(text)) == ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: self-test: %r should %s: %s" % (text, "pass" if ok else "fail",
                                                         problems(text)))
    for path in sorted(files()):
        text = open(path, encoding="utf-8", errors="replace").read()
        found = problems(text)
        if not found and ("web_base" in text or "tiktok.com" in text or "resolve" in text):
            passed += 1
        for p in found:
            failed += 1
            print("FAIL: %s %s" % (os.path.relpath(path, ROOT), p))
    for path in sorted(doc_pages()):
        text = open(path, encoding="utf-8", errors="replace").read()
        for line, block in examples(text, not path.endswith(".md")):
            found = problems(block)
            if not found and "web_base" in block:
                passed += 1
            for p in found:
                failed += 1
                print("FAIL: %s:%d (an example) %s" % (os.path.relpath(path, ROOT), line, p))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
