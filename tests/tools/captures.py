"""Where the third-party captures are read from, in place and never copied: a `captures`
folder in the `shared` folder beside the clone, or in the folder SHARED names. The drivers that
read them (check_captures.py, test_pbtext.py) say SKIPPED when it is absent.

SPDX-License-Identifier: MIT
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("SHARED") or os.path.join(ROOT, "..", "shared")
CAPS = os.path.join(SHARED, "captures")
