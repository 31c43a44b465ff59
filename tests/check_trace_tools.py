#!/usr/bin/env python3
"""siov-sim's trace tools end to end: tracegen, convert, replay (tables,
determinism, --check, sweeps) and the files they write: SVG curves parsed as
XML, Graphviz from 'dump --dot' checked against a small DOT grammar (and
rendered by dot when it is installed).

  tests/check_trace_tools.py SIOV_SIM WORKDIR
"""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def run(args, expect=0, stdin=None):
    res = subprocess.run(args, capture_output=True, text=True, input=stdin)
    if res.returncode != expect:
        sys.exit(f"FAIL: {' '.join(args)}: exit {res.returncode}, expected {expect}\n{res.stdout}{res.stderr}")
    return res.stdout


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def check_svg(path, series):
    """Well-formed SVG 1.1 with a polyline per series, points inside the view."""
    root = ET.parse(path).getroot()
    check(root.tag == SVG + "svg", f"{path}: root is {root.tag}")
    w, h = float(root.get("width")), float(root.get("height"))
    lines = root.findall(SVG + "polyline")
    check(len(lines) == series, f"{path}: {len(lines)} curves, expected {series}")
    for pl in lines:
        pts = [tuple(map(float, p.split(","))) for p in pl.get("points").split()]
        check(len(pts) >= 2, f"{path}: a curve of {len(pts)} points")
        check(all(0 <= x <= w and 0 <= y <= h for x, y in pts), f"{path}: a point outside the picture")
    texts = [t.text or "" for t in root.iter(SVG + "text")]
    check("IOTLB entries" in texts or "ATC entries" in texts, f"{path}: no x-axis label")
    return texts


# A DOT subset: digraph NAME { statements } with node, edge and attribute statements.
TOKEN = re.compile(r'\s*(?:(->)|([{};=\[\],:])|("(?:[^"\\]|\\.)*")|(<(?:[^<>]|<[^<>]*(?:<[^<>]*>[^<>]*)*>)*>)|([A-Za-z_0-9.]+))')


def dot_tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        check(m is not None, f"dot: cannot read at {text[pos:pos + 40]!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return out


def check_dot(text):
    """digraph ID { (ID[:port] [-> ID[:port]] [attrs] | ID = value) ; ... }, HTML labels balanced."""
    t = dot_tokens(text)
    check(t[:3] == ["digraph", "siov", "{"] and t[-1] == "}", "dot: not 'digraph siov { ... }'")
    i, nodes, edges = 3, set(), []
    while t[i] != "}":
        ident = t[i]
        check(re.match(r"^[A-Za-z_][A-Za-z_0-9]*$", ident), f"dot: bad identifier {ident!r}")
        i += 1
        if t[i] == "=":
            i += 2
        else:
            ref = [ident]
            if t[i] == ":":
                ref.append(t[i + 1])
                i += 2
            if t[i] == "->":
                dst = t[i + 1]
                i += 2
                if t[i] == ":":
                    i += 2
                edges.append((ident, dst))
            elif ident not in ("node", "edge", "graph"):
                nodes.add(ident)
            if t[i] == "[":
                while t[i] != "]":
                    i += 1
                i += 1
        check(t[i] == ";", f"dot: expected ';' after {ident}, found {t[i]!r}")
        i += 1
    for label in re.findall(r"label=<(.*)>\];", text):
        ET.fromstring("<x>" + label.replace("&#8212;", "-") + "</x>")  # HTML labels are XML
    for a, b in edges:
        check(b in nodes, f"dot: edge {a} -> {b} to a node never drawn")
    return nodes, edges


def main():
    sim, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ring, ringb, ring2 = (os.path.join(work, n) for n in ("ring.trace", "ring.btrace", "ring2.trace"))
    out = run([sim, "tracegen", "ring", ring, "requests=3000", "buffers=64", "adis=2"])
    check("records" in out, "tracegen says how many records")
    run([sim, "convert", ring, ringb])
    run([sim, "convert", ringb, ring2])
    check(open(ring).read() == open(ring2).read(), "text -> binary -> text changes the trace")
    check(os.path.getsize(ringb) * 3 < os.path.getsize(ring), "the binary form is not compact")

    plots = os.path.join(work, "plots")
    args = [sim, "replay", ringb, "--iotlb", "16..256", "--policy", "lru,fifo,random,default", "--plot", plots]
    a, b = run(args), run(args)
    strip = lambda s: re.sub(r"speed: .*", "", s)
    check(strip(a) == strip(b), "two replays of one trace differ")
    check(re.search(r"speed: 120000 requests in [0-9.]+ s: [0-9]+ requests/s", a), "no replay speed")
    rows = {int(k): float(v) for k, v in re.findall(r"^lru +(\d+) +0 +\d+ +([0-9.]+)%", a, re.M)}
    # two ADIs, each a loop over 64 buffer pages and a descriptor page: LRU misses
    # every buffer below 130 entries (only descriptor reads hit), and almost nothing above
    check(all(49.9 < rows[n] < 50.1 for n in (16, 32, 64, 128)) and rows[256] > 97.0,
          f"the ring's LRU curve: {rows}")
    check_svg(os.path.join(plots, "iotlb-adi.svg"), 3)
    check_svg(os.path.join(plots, "iotlb-policy.svg"), 4)

    # each device gets an ATC: the two ADIs' rings (130 pages) in one device TLB
    out = run([sim, "replay", ringb, "--iotlb", "256", "--atc", "64..256", "--policy", "lru,fifo", "--plot", plots])
    atc = {int(k): float(v) for k, v in re.findall(r"^lru +256 +(\d+) +\d+ +[0-9.]+% +([0-9.]+)%", out, re.M)}
    check(all(49.9 < atc[n] < 50.1 for n in (64, 128)) and atc[256] > 97.0, f"the ring's LRU ATC curve: {atc}")
    check(re.search(r"^00:02\.0 pasid 1 .* [0-9.]+%$", out, re.M), "a per-ADI ATC rate")
    texts = check_svg(os.path.join(plots, "atc-policy.svg"), 2)
    check("ATC entries" in texts, "the ATC chart's axis")

    rec = os.path.join(work, "rec.trace")
    scen = f"""trace start {rec}
driver
device dev = 00:02.0
enable-aux dev
domain wq0 = second-level
map wq0 0x10000 0x1000000 64K rw
aux-attach wq0 dev
translate dev pasid wq0 0x10010 w
expect translate dev pasid wq0 0x90000 r = SSL.2
dma-write dev pasid wq0 0x10100 "hello"
unmap wq0 0x10000 4K
trace stop
"""
    out = run([sim, "-"], stdin=scen)
    m = re.search(r"^trace stop +# -> (\d+) records$", out, re.M)
    records = [l for l in open(rec) if l.strip() and not l.startswith("#") and not l.startswith("siov-trace")]
    check(m and int(m.group(1)) == len(records) >= 12, f"trace stop's count: {m and m.group(0)}, {len(records)} in the file")
    check(sum(" xlate " in l or " write " in l for l in records) == 3, "the three requests recorded")
    check([l.split()[1] for l in records if l.split()[1] in ("domain", "map", "attach", "unmap")] ==
          ["domain", "map", "attach", "unmap"], "the driver markers in order")
    out = run([sim, "replay", rec, "--check"])
    check("check: 3 answers compared, 0 differ" in out, "replay --check of a recorded scenario:\n" + out)
    bad = open(rec).read().replace("-> 0x1000010 4K rw 1", "-> 0x2000010 4K rw 1")
    open(rec, "w").write(bad)
    out = run([sim, "replay", rec, "--check"], expect=1)
    check("1 differ (first at record" in out, "replay --check finds a changed answer:\n" + out)
    run([sim, "replay", os.path.join(work, "none.trace")], expect=2)

    dotf = os.path.join(work, "dev.dot")
    scen = f"""driver
device dev = 00:02.0
enable-aux dev
domain a = second-level
map a 0x10000 0x1000000 64K rw
aux-attach a dev
domain b = first-level
map b 0x40000 0x3000000 16K rw
aux-attach b dev
expect translate dev pasid a 0x90000 r = SSL.2
dump dev --dot {dotf}
dump dev pasid a 0x10000 --dot
"""
    out = run([sim, "-q", "-"], stdin=scen)
    nodes, edges = check_dot(open(dotf).read())
    check(len(nodes) >= 10 and len(edges) == len(nodes) - 1, f"the device graph: {len(nodes)} tables")
    check("#ff9999" in open(dotf).read() and "fault SSL.2 at 0x90000" in open(dotf).read(),
          "the faulting entry is not highlighted")
    path_dot = run([sim, "-", ], stdin=scen.replace(f"dump dev --dot {dotf}\n", ""))
    path_dot = path_dot[path_dot.index("digraph"):path_dot.rindex("}") + 1]
    nodes, _ = check_dot(path_dot)
    check(len(nodes) == 8 and "#99ccff" in path_dot, "the graph of one request's path")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg", dotf, "-o", dotf + ".svg"], check=True)
        ET.parse(dotf + ".svg")
    print("trace tools: tracegen, convert, replay, plots and dot all check")


if __name__ == "__main__":
    main()
