#!/usr/bin/env python3
"""Check libsiov's layering: the two wings and the call graph of src/.

  scripts/check-layers.py SRCDIR LIBSIOV_A

Fails (exit 1) when
  * a file of src/driver/ includes a header of src/model/, or the reverse;
  * a driver object calls a model symbol that is not public API
    (driver -> model only through MMIO, guest memory and the public calls);
  * a model object calls anything of the driver;
  * a trace-file object (src/trace/) calls the model other than through the
    public API, or the driver at all, or the model or driver call into it
    (the unit reaches a recorder only through the hook's function pointer);
  * two objects of src/ call each other, directly or round a loop.
The call graph comes from the objects of the static library (readelf -s): an
edge A -> B for every global symbol A uses and B defines. Archive members are
named <wing>_<file>.c.o by Meson.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict

WINGS = ("model", "driver")
LEAVES = ("trace",)  # libc-only parts beside the wings, reached through the public API


def includes(path):
    """(line number, included path) of each #include of a file."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
            if m:
                yield lineno, m.group(1)


def sources(srcdir, part):
    pdir = os.path.join(srcdir, part)
    if not os.path.isdir(pdir):
        return []
    return [n for n in sorted(os.listdir(pdir)) if n.endswith((".c", ".h"))]


def check_includes(srcdir):
    """No part of src/ includes another part's internal header."""
    errors = []
    parts = WINGS + LEAVES
    hdrs = {p: {n for n in sources(srcdir, p) if n.endswith(".h")} for p in parts}
    for part in parts:
        for name in sources(srcdir, part):
            for lineno, inc in includes(os.path.join(srcdir, part, name)):
                base = os.path.basename(inc)
                for other in parts:
                    if other != part and (f"/{other}/" in f"/{inc}" or (base in hdrs[other] and base not in hdrs[part])):
                        errors.append(f"src/{part}/{name}:{lineno}: includes {other} header {inc}")
    return errors


def read_symbols(archive):
    """{member: (defined {sym: visibility}, undefined set)}"""
    out = subprocess.run(["readelf", "-sW", archive], check=True, capture_output=True, text=True).stdout
    members = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"File: .*\((.+)\)$", line)
        if m:
            cur = m.group(1)
            members[cur] = ({}, set())
            continue
        parts = line.split()
        if cur is None or len(parts) < 8 or not parts[0].endswith(":"):
            continue
        bind, vis, ndx, name = parts[4], parts[5], parts[6], parts[7]
        if bind not in ("GLOBAL", "WEAK"):
            continue
        if ndx == "UND":
            members[cur][1].add(name)
        else:
            members[cur][0][name] = vis
    return members


def wing_of(member):
    for w in WINGS + LEAVES:
        if member.startswith(w + "_"):
            return w
    return None


def pretty(member):
    w = wing_of(member)
    base = member[len(w) + 1:] if w else member
    base = base[:-2] if base.endswith(".o") else base
    return f"src/{w}/{base}" if w else base


def sccs(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
            result.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return result


def check_calls(archive):
    errors = []
    members = read_symbols(archive)
    owner = {}
    for mem, (defs, _) in members.items():
        for sym, vis in defs.items():
            owner[sym] = (mem, vis)
    edges = defaultdict(set)
    why = {}
    for mem, (_, undefs) in members.items():
        for sym in sorted(undefs):
            if sym not in owner:
                continue  # libc, xxhash, pthread
            dst, vis = owner[sym]
            if dst == mem:
                continue
            src_w, dst_w = wing_of(mem), wing_of(dst)
            if src_w == "model" and dst_w == "driver":
                errors.append(f"{pretty(mem)} calls driver function {sym} ({pretty(dst)})")
            if src_w == "driver" and dst_w == "model" and vis != "DEFAULT":
                errors.append(f"{pretty(mem)} calls {sym} of {pretty(dst)}, which is not public API")
            if src_w in LEAVES and (dst_w == "driver" or (dst_w == "model" and vis != "DEFAULT")):
                errors.append(f"{pretty(mem)} calls {sym} of {pretty(dst)}: src/{src_w}/ uses public calls only")
            if dst_w in LEAVES and src_w in WINGS:
                errors.append(f"{pretty(mem)} calls {sym} of {pretty(dst)}: the wings reach src/{dst_w}/ only "
                              "through function pointers")
            edges[mem].add(dst)
            why.setdefault((mem, dst), sym)
    for comp in sccs(set(members), edges):
        if len(comp) > 1:
            names = sorted(comp)
            detail = "; ".join(f"{pretty(a)} -> {pretty(b)} ({why[(a, b)]})"
                               for a in names for b in names if (a, b) in why)
            errors.append("call loop between " + ", ".join(pretty(m) for m in names) + ": " + detail)
    return errors, members, edges


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    srcdir, archive = sys.argv[1], sys.argv[2]
    errors = check_includes(srcdir)
    call_errors, members, edges = check_calls(archive)
    errors += call_errors
    for e in errors:
        print("check-layers: " + e)
    if errors:
        return 1
    print(f"check-layers: {len(members)} objects, {sum(len(v) for v in edges.values())} "
          "file-to-file calls, no loop, wings apart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
