#!/usr/bin/env python3
"""The reference walk's independence from siov/format.h: fails when an oracle
file (tests/ref_*.c, tests/ref_*.h) names a macro or inline function that
format.h defines, so its bit positions stay its own (docs/testing.md)."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
fmt = (root / 'include/siov/format.h').read_text()
names = set(re.findall(r'#define\s+(SIOV_\w+)', fmt))
names |= set(re.findall(r'static inline[^(;{]*?\b(siov_\w+)\s*\(', fmt))
names.discard('SIOV_FORMAT_H')
bad = 0
for f in sorted((root / 'tests').glob('ref_*.[ch]')):
    src = re.sub(r'/\*.*?\*/|//[^\n]*', '', f.read_text(), flags=re.S)
    for n in sorted(set(re.findall(r'\b(?:SIOV|siov)_\w+', src)) & names):
        print(f'{f.relative_to(root)}: uses {n} from siov/format.h; write the constant from the spec')
        bad += 1
sys.exit(1 if bad else 0)
