#!/usr/bin/env python3
"""The configuration key reference, generated from the one table bridge/cfg_table.h.

    tools/gen_config_ref.py            rewrite the generated blocks (make docs)
    tools/gen_config_ref.py --check    regenerate into a temporary directory and fail on any
                                       difference; check etc/tiktok2mqtt.ini against the table
    --root DIR                         the tree to read (and write), default: this checkout

The generated blocks are the per-section key tables of docs/config.md, between
`<!-- keys: SECTION -->` and `<!-- end keys -->`, and of man/tiktok2mqtt.ini.5, between
`.\\" keys: SECTION` and `.\\" end keys`. Everything outside them is written by hand.

The example etc/tiktok2mqtt.ini is written by hand too; --check requires that every key it
sets exists in its section with a value of the key's type and bounds, that every key of the
table is mentioned (`;key = default` counts), and that a commented-out key shows the table's
default (an optional key, whose default is empty, may show an example instead).

SPDX-License-Identifier: MIT
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

SECTIONS = ["bridge", "mqtt", "homeassistant", "tiktok", "streamer"]
TABLE = "bridge/cfg_table.h"
MARKDOWN = "docs/config.md"
MAN = "man/tiktok2mqtt.ini.5"
EXAMPLE = "etc/tiktok2mqtt.ini"

# How each type column reads in the reference (cfg_table.h's header explains them).
TYPE_NAMES = {
    "BOOL": "bool", "INT": "int", "SEC": "seconds", "MS": "milliseconds", "BYTES": "bytes",
    "ENUM": "enum", "STR": "text", "URI": "URI", "URL": "URL", "PROXY": "proxy URL",
    "TOPIC": "topic", "NAME": "handle-shaped", "CLIENTID": "text", "ADDR": "ADDR:PORT",
    "PATH": "path", "RPATH": "file", "SECRET": "secret file", "SHARD": "i/n",
    "EVENTS": "event list", "PARAMS": "k=v&k=v", "HEADERS": "headers",
}
NUMERIC = {"INT", "SEC", "MS", "BYTES"}
BOOLS = {"true", "false", "yes", "no", "on", "off", "1", "0"}


class Key:
    def __init__(self, args):
        (self.section, self.name, self.type, _field, dflt, lo, hi, flags, aux, doc) = args
        self.default = None if dflt == "NULL" else c_string(dflt)
        self.min = int(lo.rstrip("LlUu"))
        self.max = int(hi.rstrip("LlUu"))
        names = set(re.findall(r"CFG_[A-Z]+", flags))
        if "CFG_TT" in names:
            names |= {"CFG_STREAMER", "CFG_RELOADABLE"}
        self.required = "CFG_REQUIRED" in names
        self.reloadable = "CFG_RELOADABLE" in names
        self.aux = None if aux == "NULL" else c_string(aux)
        self.doc = c_string(doc)
        if self.type not in TYPE_NAMES:
            raise SystemExit("%s: unknown type %s of %s" % (TABLE, self.type, self.name))

    def type_text(self):
        return TYPE_NAMES[self.type] + (", required" if self.required else "")

    def allowed(self):
        """What the other columns say about the values: bounds, choices, the environment."""
        if self.type in NUMERIC:
            return "%d to %d" % (self.min, self.max)
        if self.type == "CLIENTID":
            return "%d to %d bytes" % (self.min, self.max)
        if self.type == "ENUM":
            return ", ".join("`%s`" % v for v in self.aux.split("|"))
        if self.type == "SECRET" and self.aux:
            return "environment `%s` wins" % self.aux
        return ""


def c_string(text):
    """The value of one or more adjacent C string literals."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    if not parts and text.strip():
        raise SystemExit("%s: expected a string, got %s" % (TABLE, text.strip()))
    return "".join(parts).replace('\\"', '"').replace("\\\\", "\\")


def split_args(body):
    """The top-level comma-separated arguments of an X(...) row."""
    args, depth, cur, in_str, i = [], 0, "", False, 0
    while i < len(body):
        ch = body[i]
        if in_str:
            cur += ch
            if ch == "\\":
                cur += body[i + 1]
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str, cur = True, cur + ch
        elif ch == "(":
            depth, cur = depth + 1, cur + ch
        elif ch == ")":
            depth, cur = depth - 1, cur + ch
        elif ch == "," and depth == 0:
            args, cur = args + [cur.strip()], ""
        else:
            cur += ch
        i += 1
    return args + [cur.strip()]


def read_table(root):
    """Every key, in table order, from the CFG_KEYS_<SECTION>(X) blocks."""
    with open(os.path.join(root, TABLE), encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S).replace("\\\n", " ")
    keys = []
    for line in text.split("\n"):
        if not re.match(r"#define CFG_KEYS_[A-Z]+\(X\)", line):
            continue
        pos = 0
        while True:
            start = line.find("X(", pos)
            if start < 0:
                break
            depth, in_str, i = 0, False, start + 1
            for i in range(start + 1, len(line)):
                ch = line[i]
                if in_str:
                    in_str = not (ch == '"' and line[i - 1] != "\\")
                elif ch == '"':
                    in_str = True
                elif ch == "(":
                    depth += 1
                elif ch == ")":
                    depth -= 1
                    if depth == 0:
                        break
            args = split_args(line[start + 2:i])
            if len(args) != 10:
                raise SystemExit("%s: a row with %d columns, not 10: %s" %
                                 (TABLE, len(args), line[start:i + 1][:80]))
            keys.append(Key(args))
            pos = i + 1
    if not keys:
        raise SystemExit("%s: no X(...) rows found" % TABLE)
    return keys


# ---- Markdown ----

def md_default(k):
    if k.default is None:
        return "(computed)"
    return "`%s`" % k.default if k.default else "(empty)"


def md_block(keys, section):
    rows = ["| key | type | default | allowed | reload | meaning |",
            "|---|---|---|---|---|---|"]
    for k in keys:
        if k.section == section:
            rows.append("| `%s` | %s | %s | %s | %s | %s |" % (
                k.name, k.type_text(), md_default(k), k.allowed(),
                "yes" if k.reloadable else "no", k.doc))
    return "\n".join(rows)


# ---- roff ----

def roff_text(text):
    """Doc text with `code` in bold; backslashes, and minus signs in code, escaped."""
    out = []
    for i, part in enumerate(text.replace("\\", "\\e").split("`")):
        if i % 2:
            out.append("\\fB%s\\fR" % part.replace("-", "\\-"))
        else:
            out.append(part)
    line = "".join(out)
    return "\\&" + line if line[:1] in (".", "'") else line


def man_block(keys, section):
    lines = []
    for k in keys:
        if k.section != section:
            continue
        if k.default is None:
            dflt = "computed"
        elif k.default:
            dflt = "`%s`" % k.default
        else:
            dflt = "empty"
        facts = [k.type_text(), "default " + dflt]
        if k.allowed():
            facts.append(k.allowed())
        facts.append("reloadable" if k.reloadable else "restart")
        lines += [".TP", ".B %s" % k.name, roff_text("(%s)" % "; ".join(facts)),
                  ".br", roff_text(k.doc[:1].upper() + k.doc[1:] + ".")]
    return "\n".join(lines)


# ---- the blocks ----

BLOCKS = {
    MARKDOWN: (r"(<!-- keys: (\w+) -->\n)(.*?)(<!-- end keys -->)", md_block),
    MAN: (r'(\.\\" keys: (\w+)\n)(.*?)(\.\\" end keys)', man_block),
}


def regenerate(root, rel, keys):
    """The file rel (under root) with its generated blocks rewritten from keys."""
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    pattern, render = BLOCKS[rel]
    found = []

    def block(m):
        if m.group(2) not in SECTIONS:
            raise SystemExit("%s: no section %s in %s" % (path, m.group(2), TABLE))
        found.append(m.group(2))
        return m.group(1) + render(keys, m.group(2)) + "\n" + m.group(4)

    text = re.sub(pattern, block, text, flags=re.S)
    missing = [s for s in SECTIONS if s not in found]
    if missing:
        raise SystemExit("%s: no generated block for %s" % (path, ", ".join(missing)))
    return text


# ---- the example configuration ----

def value_problem(k, v):
    """Why v is no valid value of k, or None (what the daemon's parser would surely refuse)."""
    if k.type == "BOOL" and v not in BOOLS:
        return "'%s' is not a boolean" % v
    if k.type in NUMERIC:
        if not re.fullmatch(r"[0-9]+", v) or not k.min <= int(v) <= k.max:
            return "'%s' is not a whole number in %d to %d" % (v, k.min, k.max)
    if k.type == "ENUM" and v not in k.aux.split("|"):
        return "'%s' is not one of %s" % (v, k.aux.replace("|", ", "))
    if k.required and not v:
        return "empty, but the key is required"
    return None


def check_example(root, keys):
    """Problems of etc/tiktok2mqtt.ini against the table, as 'file:line: problem'."""
    path = os.path.join(root, EXAMPLE)
    by = {(k.section, k.name): k for k in keys}
    problems, mentioned, section = [], set(), None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        where = "%s:%d: " % (EXAMPLE, no)
        m = re.match(r"\[([a-z]+)(:[^\]]*)?\]\s*$", line)
        if m:
            section = m.group(1)
            if section not in SECTIONS or (section == "streamer") != bool(m.group(2)):
                problems.append(where + "unknown section " + line)
            continue
        m = re.match(r"([;#]?)\s*([a-z_]+)\s*=\s*(.*?)(\s+;.*)?$", line)
        if not m or section is None:
            continue
        commented, name, value = m.group(1), m.group(2), m.group(3).strip()
        k = by.get((section, name))
        if k is None and section == "streamer":
            k = by.get(("tiktok", name))
        if k is None:
            if not commented:
                problems.append(where + "[%s] has no key '%s' in %s" % (section, name, TABLE))
            continue
        mentioned.add((section, name))
        if not commented:
            why = value_problem(k, value)
            if why:
                problems.append(where + "%s: %s" % (name, why))
        elif value and value != k.default:  # an empty default too: the header says defaults
            problems.append(where + "%s: shown as %s, but its default is %s" %
                            (name, value, k.default or "empty"))
    for k in keys:
        if (k.section, k.name) not in mentioned:
            problems.append("%s: [%s] %s is not mentioned (add ';%s = %s')" %
                            (EXAMPLE, k.section, k.name, k.name, k.default or ""))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    a = ap.parse_args()
    keys = read_table(a.root)
    if not a.check:
        for rel in BLOCKS:
            path = os.path.join(a.root, rel)
            text = regenerate(a.root, rel, keys)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote %s (%d keys)" % (rel, len(keys)))
        return 0

    passed = failed = 0
    tmp = tempfile.mkdtemp()
    try:
        for rel in BLOCKS:
            path = os.path.join(a.root, rel)
            out = os.path.join(tmp, os.path.basename(rel))
            with open(out, "w", encoding="utf-8") as f:
                f.write(regenerate(a.root, rel, keys))
            with open(path, encoding="utf-8") as f1, open(out, encoding="utf-8") as f2:
                same = f1.read() == f2.read()
            if same:
                passed += 1
                print("ok: %s is what %s generates (%d keys)" % (rel, TABLE, len(keys)))
            else:
                failed += 1
                print("FAIL: %s differs from what %s generates: run make docs" % (rel, TABLE))
                os.system("diff -u '%s' '%s' | head -n 30" % (path, out))
    finally:
        shutil.rmtree(tmp)
    problems = check_example(a.root, keys)
    for p in problems:
        print("FAIL: " + p)
    if problems:
        failed += 1
    else:
        passed += 1
        print("ok: %s sets only keys of the table, with valid values, and mentions all %d"
              % (EXAMPLE, len(keys)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
