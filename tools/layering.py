#!/usr/bin/env python3
"""The layering of src/ (docs/architecture.md), checked: prints one
"PASS layout/NAME" or "FAIL layout/NAME: why" line per rule and exits 1
on a failure.

- folders import only the folders below them (ORDER: app on top, base at
  the bottom; a folder may use any folder listed after it);
- no cycle of #include between headers;
- no cycle of calls between .c files: a file that calls a function
  another file defines depends on it, and those dependencies form no
  cycle (a core never calls its adapter back; callbacks are fine).
"""
import os
import re
import sys

ORDER = ["app", "crawl", "dht", "server", "zone", "dns", "nodes", "base"]
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
INC = re.compile(r'^#include "([a-z_]+)/([a-z_]+\.h)"', re.M)
failed = 0


def say(ok, name, why=""):
    global failed
    if ok:
        print("PASS layout/%s" % name)
    else:
        failed += 1
        print("FAIL layout/%s: %s" % (name, why))


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", text)


files = {}
for folder in sorted(os.listdir(SRC)):
    d = os.path.join(SRC, folder)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        if f.endswith((".c", ".h")):
            files["%s/%s" % (folder, f)] = open(os.path.join(d, f)).read()

say(all(f.split("/")[0] in ORDER for f in files), "known-folders",
    "folders not in ORDER: %s" % sorted({f.split("/")[0] for f in files} - set(ORDER)))
say(not [f for f in os.listdir(SRC) if f.endswith((".c", ".h"))], "no-loose-files",
    "files directly in src/")

# Folders import downwards only.
bad = []
for f, text in files.items():
    me = f.split("/")[0]
    for folder, h in INC.findall(text):
        if folder == me or folder not in ORDER or me not in ORDER:
            continue
        if ORDER.index(folder) < ORDER.index(me):
            bad.append("%s includes %s/%s" % (f, folder, h))
        if "%s/%s" % (folder, h) not in files:
            bad.append("%s includes a missing %s/%s" % (f, folder, h))
say(not bad, "imports-flow-down", "; ".join(bad))


def cycles(graph):
    """Every cycle's nodes, by Tarjan's strongly connected components."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


inc = {f: {"%s/%s" % m for m in INC.findall(t)} - {f} for f, t in files.items()}
c = cycles(inc)
say(not c, "no-include-cycles", "; ".join(" <-> ".join(x) for x in c))

# Definitions in our style: the return type on its own line, the name at
# the start of the next; "static" ones are private to their file.
defs = {}
for f, text in files.items():
    if not f.endswith(".c"):
        continue
    lines = strip(text).split("\n")
    for prev, line in zip(lines, lines[1:]):
        m = re.match(r"([a-z_][a-z0-9_]*)\(", line)
        if m and prev and not prev.startswith(("static", " ", "\t", "#")) and not prev.rstrip().endswith((";", "}")):
            defs.setdefault(m.group(1), f)
calls = {}
for f, text in files.items():
    if not f.endswith(".c"):
        continue
    body = strip(text)
    used = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", body))
    calls[f] = {defs[u] for u in used if u in defs and defs[u] != f}
c = cycles(calls)
say(not c, "no-call-cycles", "; ".join(" <-> ".join(x) for x in c))
sys.exit(1 if failed else 0)
