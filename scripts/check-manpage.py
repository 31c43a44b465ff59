#!/usr/bin/env python3
"""A man page names every option its program's --help lists, and no other.

  scripts/check-manpage.py PAGE.1 PROGRAM
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    page, prog = sys.argv[1], sys.argv[2]
    res = subprocess.run([prog, "--help"], capture_output=True, text=True)
    helped = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", res.stdout + res.stderr))
    with open(page, encoding="utf-8") as f:
        text = f.read()
    documented = {o.replace("\\-", "-") for o in re.findall(r"(?<![\w-])\\-\\-[a-z][a-z0-9\\-]*", text)}
    documented = {re.sub(r"\\$", "", o) for o in documented}
    missing = sorted(helped - documented)
    extra = sorted(documented - helped)
    for o in missing:
        print(f"{page}: does not describe {o}, which {prog} --help lists")
    for o in extra:
        print(f"{page}: describes {o}, which {prog} --help does not list")
    if not helped:
        print(f"{prog} --help lists no option")
        return 1
    return 1 if missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
