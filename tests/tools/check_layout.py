#!/usr/bin/env python3
"""The layout rules of docs/architecture.md, checked on the C sources of the library
(connector/) and the daemon (bridge/):

  topics     only bridge/topic.c builds a topic: no other file of bridge/ puts a topic root
             (base_topic, discovery_prefix, the roots' base, ha_prefix or instance) into a
             printf- or strcat-style call whose format holds a '/' (a topic's level
             separator: a root in a display name or an object id is no topic), and no string
             literal starts with a default root and a slash ("tiktok/", "homeassistant/");
  json       nothing searches or edits an event's rendered JSON: no string search (strstr,
             strchr, strrchr, memchr, memrchr, memmem, sscanf) whose first argument is the
             JSON or a payload (an identifier containing `json` or `payload`), and no
             comparison with '}' or overwrite of a closing brace outside connector/src/json.c,
             the reader and validator of documents received from outside (HTTP answers);
  names      an event's name is written only in the registry, connector/src/events.h, and
             the derived events' table of bridge/topic.h (BRIDGE_DERIVED_EVENTS): no other
             string literal is exactly an event name. Two names are also plain words of other
             vocabularies, and are not checked: "error" (a streamer state, a log level, a JSON
             key of answers and notices) and "connected" (the broker connection's state in
             bridge/info, the probe's transport).

Comments are skipped. `check_layout.py [ROOT]` checks the tree at ROOT (default: this one);
`--self-test` plants one violation of each rule in a copy of the tree and expects each to be
reported, and the copy without them to pass. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DIRS = ("connector", "bridge")
NOT_EVENT_NAMES = {"error", "connected"}
FORMAT_CALLS = r"\b(snprintf|vsnprintf|sprintf|printf|fprintf|bprintf|xasprintf|asprintf|strcat|strncat)\s*\("
SEARCH_CALLS = r"\b(strstr|strchr|strrchr|memchr|memrchr|memmem|sscanf)\s*\("
ROOT_FIELDS = re.compile(r"\b(base_topic|discovery_prefix|ha_prefix)\b|(->|\.)(base|instance)\b(?!\.)")
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def strip_comments(text):
    """The text with comments blanked (newlines kept, so line numbers hold); strings and
    character literals are skipped over whole."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_args(text, start):
    """The text between the parenthesis that opens at `start` - 1 and its match."""
    depth, i = 1, start
    while i < len(text) and depth:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        elif text[i] in "\"'":
            q, i = text[i], i + 1
            while i < len(text) and text[i] != q:
                i += 2 if text[i] == "\\" else 1
        i += 1
    return text[start:i - 1]


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def event_names(root):
    names = set(re.findall(r'^TT_EVENT(?:_ALSO)?\(\w+,\s*"(\w+)"',
                           open(os.path.join(root, "connector", "src", "events.h")).read(), re.M))
    derived = re.search(r"#define BRIDGE_DERIVED_EVENTS\(X\)((?:.*\\\n)*.*)",
                        open(os.path.join(root, "bridge", "topic.h")).read(), re.S)
    names |= set(re.findall(r'X\(\w+,\s*"(\w+)"', derived.group(1) if derived else ""))
    return names - NOT_EVENT_NAMES


def sources(root):
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    path = os.path.join(dirpath, f)
                    yield os.path.relpath(path, root), strip_comments(open(path).read())


def check_topics(rel, text):
    if not rel.startswith("bridge/") or rel == "bridge/topic.c":
        return []
    found = []
    for m in re.finditer(FORMAT_CALLS, text):
        args = call_args(text, m.end())
        levels = any("/" in x for x in LITERAL.findall(args))
        if ROOT_FIELDS.search(LITERAL.sub('""', args)) and levels:
            found.append((line_of(text, m.start()), "topics: %s joins a topic root" % m.group(1)))
    for m in LITERAL.finditer(text):
        if re.match(r"(tiktok|homeassistant)/", m.group(1)):
            found.append((line_of(text, m.start()), 'topics: the literal "%s"' % m.group(1)))
    return found


def check_json(rel, text):
    found = []
    for m in re.finditer(SEARCH_CALLS, text):
        first = call_args(text, m.end()).split(",")[0]
        if re.search(r"json|payload", first, re.I):
            found.append((line_of(text, m.start()), "json: %s searches %s" % (m.group(1), first.strip())))
    if rel != "connector/src/json.c":
        for m in re.finditer(r"[=!]=\s*'\}'|'\}'\s*[=!]=|\[[^\]]*\]\s*=\s*'\\0'\s*;[^\n]*'\}'", text):
            found.append((line_of(text, m.start()), "json: a closing brace compared or cut"))
    return found


def check_names(rel, text, names):
    if rel in ("connector/src/events.h", "bridge/topic.h"):
        return []
    return [(line_of(text, m.start()), 'names: the event name "%s"' % m.group(1))
            for m in LITERAL.finditer(text) if m.group(1) in names]


def violations(root):
    names = event_names(root)
    out = []
    for rel, text in sources(root):
        for line, what in check_topics(rel, text) + check_json(rel, text) + check_names(rel, text, names):
            out.append("%s:%d: %s" % (rel, line, what))
    return out


PLANTS = {
    "topics": ("bridge/planted_topic.c",
               'void f(const struct bridge_cfg *c, char *o, size_t n, const char *u)\n'
               '{\n    snprintf(o, n, "%s/%s/chat", c->mqtt.base_topic, u);\n}\n'),
    "topics literal": ("bridge/planted_topic2.c", 'static const char *t = "tiktok/%s/state";\n'),
    "json": ("connector/src/planted_json.c",
             'int f(const char *json, size_t n)\n'
             '{\n    return strstr(json, "\\"diamondCount\\":") != NULL && json[n - 1] == \'}\';\n}\n'),
    "names": ("bridge/planted_name.c", 'static const char *n = "giftEnd";\n'),
    "names (library)": ("connector/src/planted_name.c", 'static const char *n = "roomUser";\n'),
}


def self_test():
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        passed += bool(cond)
        failed += not cond
        if not cond:
            print("FAIL: " + what)

    tmp = tempfile.mkdtemp(prefix="check-layout-")
    try:
        tree = os.path.join(tmp, "tree")
        for d in DIRS:
            shutil.copytree(os.path.join(ROOT, d), os.path.join(tree, d))
        base = violations(tree)
        check(not base, "the tree as it is passes: %s" % base)
        for rule, (rel, body) in PLANTS.items():
            path = os.path.join(tree, rel)
            with open(path, "w") as f:
                f.write(body)
            got = violations(tree)
            os.remove(path)
            print("planted %s in %s: %s" % (rule, rel, got))
            check(any(v.startswith(rel + ":") and v.split(": ")[1].startswith(rule.split()[0])
                      for v in got), "a planted violation of '%s' is reported" % rule)
    finally:
        shutil.rmtree(tmp)
    return passed, failed


def main():
    if "--self-test" in sys.argv:
        p, f = self_test()
    else:
        root = next((a for a in sys.argv[1:] if not a.startswith("-")), ROOT)
        found = violations(root)
        for v in found:
            print("FAIL: " + v)
        p, f = (0 if found else 1), len(found)
        if not found:
            print("ok: topics only in bridge/topic.c, no search or edit of event JSON, event "
                  "names only in the registry")
    print("%d passed, %d failed" % (p, f))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
