#!/usr/bin/env python3
"""The project stands alone: nothing in it leans on files kept beside the clone.

Three checks over every file of the repository (`git ls-files`, untracked files included;
a walk of the tree when this is not a git checkout):

1. No file names the notes the project was started from (the contract, protocol, style,
   ecosystem, brokers and seed-README notes) or the oracle folder beside the clone: their
   facts belong in docs/, in our own words.
2. Only a test that prints `SKIPPED:` when it is absent (under tests/) names the folder
   beside the clone that holds third-party captures.
3. Every relative link of the Markdown files (README.md, docs/*.md and the others) points at
   a file of the repository, and a `#anchor` at a heading of the file it names.

Ends with `N passed, N failed`; exit 1 on any failure.

    python3 tests/tools/check_standalone.py [ROOT]

SPDX-License-Identifier: MIT
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(HERE))

# Built from pieces so that this file passes its own check.
NOTES = ["mqtt-contract", "webcast-protocol", "style", "ecosystem", "brokers", "seed-README"]
NOTE_RE = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(n) for n in NOTES) + r")\.md\b")
SHARED = ".." + "/shared"
ORACLE_RE = re.compile(re.escape(SHARED) + r"/oracle\b")

SKIP_DIRS = {".git", "build", "node_modules"}
TEXT_LIMIT = 4 << 20  # bytes read per file: past this it is data, not something we wrote

RESULTS = {"passed": 0, "failed": 0}


def check(ok, what):
    RESULTS["passed" if ok else "failed"] += 1
    if not ok:
        print("FAIL " + what)


def repo_files():
    try:
        out = subprocess.run(
            ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
        names = [n for n in out.decode("utf-8", "replace").split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, files in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            for f in files:
                names.append(os.path.relpath(os.path.join(d, f), ROOT))
    return sorted(set(n for n in names if os.path.isfile(os.path.join(ROOT, n))))


def read_text(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        data = f.read(TEXT_LIMIT)
    if b"\0" in data[:8192]:
        return None  # binary (fixture frames, corpora)
    return data.decode("utf-8", "replace")


def check_names(rel, text):
    """Checks 1 and 2 for one file."""
    hits = sorted(set(m.group(0) for m in NOTE_RE.finditer(text)))
    hits += [SHARED + "/oracle"] if ORACLE_RE.search(text) else []
    may_name_shared = rel.startswith("tests/") and "SKIPPED:" in text
    if SHARED in text and not may_name_shared:
        hits.append(SHARED)
    check(not hits, "%s names %s" % (rel, ", ".join(hits)))


# ---- Markdown links ----

FENCE_RE = re.compile(r"^\s*(```|~~~)")
LINK_RE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_RE = re.compile(r"`+[^`]*`+")


def md_lines(text):
    """The lines outside fenced code blocks, with inline code removed."""
    fenced = False
    for line in text.split("\n"):
        if FENCE_RE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(text):
    seen = {}
    out = set()
    for line in md_lines(text):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else "%s-%d" % (base, n))
    return out


def check_links(rel, text, files):
    here = os.path.dirname(rel)
    for line in md_lines(text):
        for m in LINK_RE.finditer(CODE_RE.sub("", line)):
            target = m.group(1)
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # https:, mailto: ...: public pages are fine
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(here, path)) if path else rel
            what = "%s: link %s" % (rel, target)
            if dest.startswith(".."):
                check(False, what + " leaves the repository")
                continue
            exists = dest in files or os.path.isdir(os.path.join(ROOT, dest))
            if not exists:
                check(False, what + ": no such file in the repository")
                continue
            if frag and dest.endswith(".md"):
                check(frag in anchors(read_text(dest) or ""), what + ": no such heading")
            else:
                check(True, what)


def main():
    files = repo_files()
    for rel in files:
        text = read_text(rel)
        if text is None:
            continue
        check_names(rel, text)
        if rel.endswith(".md"):
            check_links(rel, text, set(files))
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
