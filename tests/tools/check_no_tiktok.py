#!/usr/bin/env python3
"""No test or tool configuration can reach TikTok.

A bridge or tt-connect pointed at the simulator with web_base still has its other defaults,
and the direct path's push_base is TikTok's own edge (wss://webcast-ws.tiktok.com): since
sign_flow = auto is the default, a configuration that names web_base must also name push_base
or a signed sign_flow. This reads every test driver and tool that writes such a configuration
and fails on one that does neither (it caught tools/bench_e2e.py, whose benchmark and smoke run
went for TikTok's edge first). Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAFE = re.compile(r"push_base|sign_flow\s*=\s*(euler|legacy|session)|sign_flow=(euler|legacy|session)")


def files():
    for top in ("tests", "tools"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".py", ".sh", ".js")) and n != os.path.basename(__file__):
                    yield os.path.join(d, n)


def main():
    passed = failed = 0
    for path in sorted(files()):
        text = open(path, encoding="utf-8", errors="replace").read()
        if "web_base" not in text:
            continue
        if SAFE.search(text):
            passed += 1
        else:
            failed += 1
            print("FAIL: %s sets web_base but neither push_base nor a signed sign_flow: its "
                  "connections would try TikTok's own push edge" % os.path.relpath(path, ROOT))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
