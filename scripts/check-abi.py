#!/usr/bin/env python3
"""Check libsiov's binary interface against the record of its version.

  scripts/check-abi.py ABI_DIR VERSION SOVERSION LIBSIOV_SO SIZES_EXE [--update]

abi/<VERSION>.abi records, for each version, the SONAME version, every
exported symbol, and the size and alignment of every struct a caller
allocates (printed by tests/abi_sizes.c). The check fails when
  * the library exports other symbols, or the structs have other sizes, than
    the record of the current version says (a version's interface is fixed:
    change it by bumping the version in meson.build, then --update);
  * against the newest earlier record, a symbol disappeared or a struct
    changed size while the SONAME stayed the same (docs/abi.md: before 1.0,
    growing a caller-allocated struct bumps the SONAME).
--update writes the record of the current version from the build.
"""
import os
import re
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["readelf", "--dyn-syms", "-W", lib], check=True, capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        p = line.split()
        if len(p) >= 8 and p[3] in ("FUNC", "OBJECT") and p[4] in ("GLOBAL", "WEAK") and p[5] == "DEFAULT" \
                and p[6] != "UND":
            syms.add(p[7].split("@")[0])
    return syms


def soname(lib):
    out = subprocess.run(["readelf", "-d", "-W", lib], check=True, capture_output=True, text=True).stdout
    m = re.search(r"Library soname: \[(.+)\]", out)
    return m.group(1) if m else None


def current(soversion, lib, sizes_exe):
    sizes = {}
    out = subprocess.run([sizes_exe], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        _, name, size, align = line.split()
        sizes[name] = (int(size), int(align))
    return {"soversion": soversion, "symbols": exported(lib), "sizes": sizes}


def parse(path):
    rec = {"soversion": None, "symbols": set(), "sizes": {}}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if not p or p[0].startswith("#"):
                continue
            if p[0] == "soversion":
                rec["soversion"] = p[1]
            elif p[0] == "symbol":
                rec["symbols"].add(p[1])
            elif p[0] == "size":
                rec["sizes"][p[1]] = (int(p[2]), int(p[3]))
    return rec


def write(path, version, rec):
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# libsiov {version}: the interface this version exports (scripts/check-abi.py --update)\n")
        f.write(f"soversion {rec['soversion']}\n")
        for s in sorted(rec["symbols"]):
            f.write(f"symbol {s}\n")
        for name, (size, align) in sorted(rec["sizes"].items()):
            f.write(f"size {name} {size} {align}\n")


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def earlier_record(abi_dir, version):
    versions = [f[:-4] for f in os.listdir(abi_dir) if re.fullmatch(r"\d+\.\d+\.\d+\.abi", f)]
    older = sorted((v for v in versions if vkey(v) < vkey(version)), key=vkey)
    return (older[-1], parse(os.path.join(abi_dir, older[-1] + ".abi"))) if older else (None, None)


def compare_same(version, rec, cur):
    errs = []
    if rec["soversion"] != cur["soversion"]:
        errs.append(f"SONAME version {cur['soversion']}, the record of {version} says {rec['soversion']}")
    for s in sorted(cur["symbols"] - rec["symbols"]):
        errs.append(f"exports {s}, which {version} does not record")
    for s in sorted(rec["symbols"] - cur["symbols"]):
        errs.append(f"no longer exports {s}, which {version} records")
    for name in sorted(set(rec["sizes"]) | set(cur["sizes"])):
        if rec["sizes"].get(name) != cur["sizes"].get(name):
            errs.append(f"struct {name} is {cur['sizes'].get(name)} (size, align); {version} records "
                        f"{rec['sizes'].get(name)}")
    return errs


def compare_earlier(old_version, old, cur):
    errs = []
    if old["soversion"] != cur["soversion"]:
        return errs  # a new SONAME may change anything
    for s in sorted(old["symbols"] - cur["symbols"]):
        errs.append(f"{s} (exported by {old_version}) is gone but the SONAME version is unchanged")
    for name, was in sorted(old["sizes"].items()):
        if cur["sizes"].get(name) != was:
            errs.append(f"struct {name} changed from {was} (in {old_version}) but the SONAME version is unchanged")
    return errs


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    abi_dir, version, soversion, lib, sizes_exe = args
    cur = current(soversion, lib, sizes_exe)
    if soname(lib) != f"libsiov.so.{soversion}":
        print(f"check-abi: SONAME is {soname(lib)}, expected libsiov.so.{soversion}")
        return 1
    path = os.path.join(abi_dir, version + ".abi")
    if "--update" in sys.argv:
        write(path, version, cur)
        print(f"check-abi: wrote {path}")
    if not os.path.exists(path):
        print(f"check-abi: no record {path}; write it with --update")
        return 1
    errs = compare_same(version, parse(path), cur)
    old_version, old = earlier_record(abi_dir, version)
    if old:
        errs += compare_earlier(old_version, old, cur)
    for e in errs:
        print("check-abi: " + e)
    if errs:
        print("check-abi: a released version's interface is fixed. Bump the version in meson.build "
              "(and siov_soversion when a caller-allocated struct grows or a symbol goes), then run "
              "scripts/check-abi.py with --update (docs/abi.md).")
        return 1
    print(f"check-abi: {len(cur['symbols'])} symbols, {len(cur['sizes'])} structs match {version}"
          + (f"; compatible with {old_version} rules" if old else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
