#!/usr/bin/env python3
"""Mutation testing of src/: generate mutants mechanically, run the tests on each.

Every mutant is one small change to one file of src/ (src/model/*.c,
src/driver/*.c, src/trace/*.c and the inline functions of src/model/*.h), made by an
operator, not chosen by hand:

  rel:OP      a relational operator replaced (< <= > >= == !=): the boundary
              moved (< to <=) and the comparison inverted (< to >=)
  logic:OP    && and || swapped
  neg         an if condition negated: if (x) -> if (!(x))
  const:+1/-1 an integer constant in an expression plus or minus one
  delcheck    a check removed: if (...) return/break/continue/goto ...;
  noreturn    an early return removed (one inside a block of several statements)
  fault:NAME  a fault reason replaced by its neighbour in siov_fault
  mask:NAME   a format.h mask or code replaced by its neighbour in its group

A mutant's id is file:line:column:operator, so a list is stable while the
file does not change. Each mutant is applied to a private copy of the tree
(<workdir>/tree; the working tree is never written), built incrementally in
<workdir>/build, and the test executables run directly, the ones most likely
to fail first (the mutated module's own test), stopping at the first failure;
then the file is restored. A test that fails, crashes or outlives its timeout
kills the mutant. A mutant whose objects are byte-identical to the
unmutated build is equivalent by construction (status same-object); one that
does not compile does not count.

Results are appended to <workdir>/results.tsv as each mutant finishes, so a
run can be stopped and resumed; a result is reused while the mutated file's
content is unchanged. Survivors reviewed as equivalent are listed, each with
its reason, in scripts/mutants-equivalent.txt.

  scripts/mutate.sh --list                    count and list the mutants
  scripts/mutate.sh                           run every mutant
  scripts/mutate.sh --sample 25 --seed 7      a reproducible random sample
  scripts/mutate.sh --file src/model/pgtable.c
  scripts/mutate.sh --id ID [--id ID...]      named mutants
  scripts/mutate.sh --report                  score and survivors of the results so far

The exit status is 1 when a mutant of the run survived and is not listed as
equivalent, 2 on a usage or setup error, else 0.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EQUIV_FILE = os.path.join(ROOT, 'scripts', 'mutants-equivalent.txt')
# What the private copy of the tree needs to configure and build the tests.
TREE_PARTS = ['meson.build', 'meson_options.txt', 'meson.options', 'include', 'src', 'tests',
              'scripts', 'abi', 'tools']
MESON_OPTS = ['-Dtools=false', '-Dbench=false', '-Dexamples=false', '-Dfuzz=false',
              '-Dbuildtype=plain', '-Doptimization=2', '-Ddebug=false']
# As CI's ASan+UBSan step: a mutant that reads out of bounds or overflows is
# killed there, so it is killed here.
SANITIZE_OPTS = ['-Db_sanitize=address,undefined', '-Db_lundef=false',
                 '-Dc_args=-fno-sanitize-recover=all']
# Test executables never used: the stress tests race threads, so their
# outcome is not a function of the code alone.
SKIP_TESTS = {'test_stress', 'test_atc_stress'}
# Tests run only after all others (slowest, broadest).
LAST_TESTS = ['test_differential']
# The module's own tests, tried first; other tests follow, ordered by how
# many mutants of the same file they killed so far, then by run time.
OWN_TESTS = {
    'mem': ['test_mem'],
    'context': ['test_context'],
    'pasid_table': ['test_pasid_table'],
    'pgtable': ['test_pgtable'],
    'cache_stamp': ['test_iotlb', 'test_inval'],
    'entry_cache': ['test_iotlb'],
    'context_cache': ['test_iotlb', 'test_inval'],
    'pasid_cache': ['test_iotlb', 'test_inval'],
    'iotlb': ['test_iotlb', 'test_inval'],
    'caches': ['test_iotlb', 'test_front_cache'],
    'front_cache': ['test_front_cache'],
    'msi': ['test_fault'],
    'fault': ['test_fault'],
    'inval': ['test_inval'],
    'regs': ['test_regs'],
    'translate': ['test_translate', 'test_stale'],
    'iommu': ['test_translate', 'test_regs'],
    'internal': ['test_translate'],
    'guest_mem': ['test_driver'],
    'mmio': ['test_driver'],
    'alloc': ['test_alloc', 'test_driver', 'test_aux_domain'],
    'qi': ['test_driver', 'test_aux_domain'],
    'device': ['test_driver', 'test_aux_domain'],
    'io_pgtable': ['test_aux_domain', 'test_driver'],
    'aux_domain': ['test_aux_domain', 'test_driver'],
    'bringup': ['test_driver', 'test_aux_domain'],
    'irq': ['test_driver_irq'],
    'last_error': ['test_driver_errors'],
    'irq_remap': ['test_irq_remap'],
    'interrupt': ['test_irq_remap'],
    'iec': ['test_iec', 'test_irq_remap'],
    'ats': ['test_ats'],
    'atc': ['test_atc'],
    'port': ['test_ats', 'test_atc'],
    'exact_cache': ['test_iotlb_hw'],
    'resolve': ['test_translate', 'test_ats'],
    'trace_hook': ['test_trace'],
    'outbox': ['test_outbox', 'test_atc', 'test_prq', 'test_ats'],
    'trace_text': ['test_trace_errors', 'test_trace', 'test_replay'],
    'trace_binary': ['test_trace_errors', 'test_trace', 'test_replay'],
    'trace_file': ['test_trace_errors', 'test_trace', 'test_replay'],
}
# Fixed seeds; the differential test on fewer table sets than its default.
TEST_ENV = {'CMOCKA_TEST_ABORT': '1', 'SIOV_SEED': '1', 'SIOV_DIFF_SETS': '400',
            'SIOV_DIFF_CORRUPT_SETS': '300', 'SIOV_DIFF_FLIP_SETS': '40',
            'ASAN_OPTIONS': 'detect_leaks=1:abort_on_error=1', 'UBSAN_OPTIONS': 'halt_on_error=1'}


# ------------------------------------------------------------------ lexer

TOKEN_RE = re.compile(r'''
    (?P<ws>[ \t\r\n\f\v]+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<pp>^[ \t]*\#(?:[^\n\\]|\\.|\\\n)*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)[uUlLfF]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[{}()\[\];,.?:~!<>=+\-*/%&|^])
''', re.S | re.M | re.X)


class Tok:
    __slots__ = ('kind', 'text', 'start', 'end', 'line', 'col')

    def __init__(self, kind, text, start, end, line, col):
        self.kind, self.text, self.start, self.end, self.line, self.col = kind, text, start, end, line, col


def lex(src):
    toks, pos, line, line_start = [], 0, 1, 0
    while pos < len(src):
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise ValueError('cannot lex at line %d: %r' % (line, src[pos:pos + 20]))
        kind, text = m.lastgroup, m.group()
        if kind not in ('ws', 'comment', 'pp'):
            toks.append(Tok(kind, text, pos, m.end(), line, pos - line_start + 1))
        nl = text.count('\n')
        if nl:
            line += nl
            line_start = pos + text.rindex('\n') + 1
        pos = m.end()
    return toks


# ----------------------------------------------------------- C structure

TYPE_WORDS = {'int', 'unsigned', 'signed', 'char', 'short', 'long', 'bool', '_Bool', 'void', 'float',
              'double', 'const', 'volatile', 'static', 'struct', 'union', 'enum', 'register',
              '_Alignas', 'size_t', 'ssize_t', 'uintptr_t'}


def typedef_names():
    names = set()
    for base in ('include', 'src'):
        for dirpath, _, files in os.walk(os.path.join(ROOT, base)):
            for f in files:
                if f.endswith('.h') or f.endswith('.c'):
                    text = open(os.path.join(dirpath, f), encoding='utf-8').read()
                    names.update(re.findall(r'typedef\s[^;{]*?(\w+)\s*;', text))
                    names.update(re.findall(r'typedef\s+(?:enum|struct|union)\s*\w*\s*\{.*?\}\s*(\w+)\s*;',
                                            text, re.S))
    return names


def is_type_word(t, typedefs):
    return t.kind == 'ident' and (t.text in TYPE_WORDS or t.text.endswith('_t') or t.text in typedefs)


def match_close(toks, i):
    """Index of the token closing the bracket at i."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    open_, close, depth = toks[i].text, pairs[toks[i].text], 0
    for j in range(i, len(toks)):
        if toks[j].text == open_:
            depth += 1
        elif toks[j].text == close:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError('unbalanced %s at line %d' % (open_, toks[i].line))


def function_bodies(toks):
    """(open, close) token indexes of every function body: a '{' at file
    scope that follows ')' (possibly through __attribute__((...)))."""
    bodies, i = [], 0
    while i < len(toks):
        t = toks[i]
        if t.text == '{':
            j = match_close(toks, i)
            if i > 0 and toks[i - 1].text == ')':
                bodies.append((i, j))
            i = j + 1
            continue
        i += 1
    return bodies


def statement_end(toks, i):
    """Index just past the statement starting at token i (a simple statement
    up to ';', a braced block, or an if/else chain)."""
    t = toks[i]
    if t.text == '{':
        return match_close(toks, i) + 1
    if t.text in ('if', 'while', 'for', 'switch'):
        j = statement_end(toks, match_close(toks, i + 1) + 1)
        if t.text == 'if' and j < len(toks) and toks[j].text == 'else':
            j = statement_end(toks, j + 1)
        return j
    if t.text == 'do':
        j = statement_end(toks, i + 1)  # body, then while (...);
        return match_close(toks, j + 1) + 2
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text in ('(', '[', '{'):
            depth += 1
        elif toks[j].text in (')', ']', '}'):
            depth -= 1
        elif toks[j].text == ';' and depth == 0:
            return j + 1
    raise ValueError('statement at line %d has no end' % t.line)


# ------------------------------------------------------------- operators

REL_SWAPS = {'<': ['<=', '>='], '<=': ['<', '>'], '>': ['>=', '<='], '>=': ['>', '<'],
             '==': ['!='], '!=': ['==']}
NUM_RE = re.compile(r'^(0[xX])?([0-9a-fA-F]+)([uUlL]*)$')


def format_groups():
    """Neighbours for fault reasons (siov_fault order) and format.h names
    (the next constant of the same group, SIOV_<GROUP>_..., in file order)."""
    types_h = open(os.path.join(ROOT, 'include', 'siov', 'types.h'), encoding='utf-8').read()
    faults = re.findall(r'\b(SIOV_FAULT_\w+)\s*=', types_h)
    fault_next = {}
    for k, name in enumerate(faults):
        fault_next[name] = faults[k + 1] if k + 1 < len(faults) else faults[k - 1]
    fmt = open(os.path.join(ROOT, 'include', 'siov', 'format.h'), encoding='utf-8').read()
    groups = {}
    for name, value in re.findall(r'^#define\s+(SIOV_[A-Z0-9]+_\w+)\s+(.+)$', fmt, re.M):
        value = value.split('/*')[0].strip()
        if not value or name.startswith('SIOV_REG_'):
            continue  # register offsets: a swap reads another register, tested by test_regs
        group = name.split('_')[1]
        groups.setdefault(group, []).append(name)
    mask_next = {}
    for names in groups.values():
        for k, name in enumerate(names):
            if len(names) > 1:
                mask_next[name] = names[k + 1] if k + 1 < len(names) else names[k - 1]
    return fault_next, mask_next


class Mutant:
    __slots__ = ('path', 'line', 'col', 'op', 'start', 'end', 'repl')

    def __init__(self, path, tok, op, start, end, repl):
        self.path, self.line, self.col, self.op = path, tok.line, tok.col, op
        self.start, self.end, self.repl = start, end, repl

    @property
    def id(self):
        return '%s:%d:%d:%s' % (self.path, self.line, self.col, self.op)

    def apply(self, src):
        return src[:self.start] + self.repl + src[self.end:]


def bump(text, delta):
    m = NUM_RE.match(text)
    if not m:
        return None
    hexp, digits, suffix = m.groups()
    value = int(digits, 16 if hexp else 10) + delta
    if value < 0:
        return None
    if hexp:
        s = '%x' % value
        if digits != digits.lower():
            s = s.upper()
        return hexp + s.rjust(len(digits), '0') + suffix
    return str(value) + suffix


def in_declaration_brackets(toks, body_open, k):
    """Whether number token k is inside [...] of a declaration in the body."""
    depth, j = 0, k - 1
    while j > body_open:
        if toks[j].text == ']':
            depth += 1
        elif toks[j].text == '[':
            if depth == 0:
                break
            depth -= 1
        elif toks[j].text in (';', '{', '}'):
            return False
        j -= 1
    else:
        return False
    # j is the '[' around k: find the statement start and see if it declares
    s = j
    while s > body_open and toks[s - 1].text not in (';', '{', '}'):
        s -= 1
    return TYPEDEFS is not None and is_type_word(toks[s], TYPEDEFS)


TYPEDEFS = None


def mutants_of(path, src, fault_next, mask_next):
    toks = lex(src)
    out = []
    for body_open, body_close in function_bodies(toks):
        depth = 0
        for k in range(body_open, body_close + 1):
            t = toks[k]
            if t.text == '{':
                depth += 1
            elif t.text == '}':
                depth -= 1
            if t.kind == 'punct' and t.text in REL_SWAPS:
                for r in REL_SWAPS[t.text]:
                    out.append(Mutant(path, t, 'rel:' + r, t.start, t.end, r))
            elif t.kind == 'punct' and t.text in ('&&', '||'):
                r = '||' if t.text == '&&' else '&&'
                out.append(Mutant(path, t, 'logic:' + r, t.start, t.end, r))
            elif t.kind == 'number' and not in_declaration_brackets(toks, body_open, k):
                for delta, name in ((1, '+1'), (-1, '-1')):
                    r = bump(t.text, delta)
                    if r is not None:
                        out.append(Mutant(path, t, 'const:' + name, t.start, t.end, r))
            elif t.kind == 'ident' and t.text in fault_next:
                out.append(Mutant(path, t, 'fault:' + fault_next[t.text], t.start, t.end, fault_next[t.text]))
            elif t.kind == 'ident' and t.text in mask_next:
                out.append(Mutant(path, t, 'mask:' + mask_next[t.text], t.start, t.end, mask_next[t.text]))
            elif t.text == 'if' and toks[k + 1].text == '(':
                close = match_close(toks, k + 1)
                a, b = toks[k + 1].end, toks[close].start
                out.append(Mutant(path, t, 'neg', a, b, '!(' + src[a:b] + ')'))
                out.extend(delcheck(path, toks, k, close))
            elif t.text == 'return' and depth >= 2:
                if not sole_statement_of_if(toks, k):
                    end = statement_end(toks, k)
                    out.append(Mutant(path, t, 'noreturn', t.start, toks[end - 1].end, ';'))
    return out


def delcheck(path, toks, k, close):
    """if (...) return/break/continue/goto ...; (braced or not, no else): removed."""
    first = close + 1
    body = first + 1 if toks[first].text == '{' else first
    if toks[body].text not in ('return', 'break', 'continue', 'goto'):
        return []
    end = statement_end(toks, first)
    if end < len(toks) and toks[end].text == 'else':
        return []
    if toks[first].text == '{' and statement_end(toks, body) != end - 1:
        return []  # the block holds more than the jump
    # a check that is the else branch of another if: remove 'if (...) stmt;' leaving 'else ;'
    repl = ';' if k > 0 and toks[k - 1].text == 'else' else ''
    return [Mutant(path, toks[k], 'delcheck', toks[k].start, toks[end - 1].end, repl)]


def sole_statement_of_if(toks, k):
    """Whether return token k is the whole body of an if (delcheck covers it)."""
    j = k - 1
    if toks[j].text == '{':
        if statement_end(toks, k) != match_close(toks, j):
            return False
        j -= 1
    if toks[j].text != ')':
        return False
    depth = 0
    while j >= 0:
        if toks[j].text == ')':
            depth += 1
        elif toks[j].text == '(':
            depth -= 1
            if depth == 0:
                break
        j -= 1
    return j > 0 and toks[j - 1].text == 'if' and not (
        statement_end(toks, k) < len(toks) and toks[statement_end(toks, k)].text == 'else')


def source_files():
    files = []
    for wing in ('model', 'driver', 'trace'):
        d = os.path.join(ROOT, 'src', wing)
        for f in sorted(os.listdir(d)):
            if f.endswith('.c') or (wing == 'model' and f.endswith('.h')):
                files.append('src/%s/%s' % (wing, f))
    return files


def generate(paths):
    global TYPEDEFS
    TYPEDEFS = typedef_names()
    fault_next, mask_next = format_groups()
    everything, contents = [], {}
    for path in paths:
        src = open(os.path.join(ROOT, path), encoding='utf-8').read()
        contents[path] = src
        everything.extend(mutants_of(path, src, fault_next, mask_next))
    seen, out = set(), []
    for m in everything:
        if m.id not in seen:  # an operator can meet the same token twice (never expected)
            seen.add(m.id)
            out.append(m)
    return out, contents


def mutated_line(m, src):
    """The mutated source line(s), whitespace collapsed, for reports."""
    if m.op in ('delcheck', 'noreturn'):
        return 'removed: ' + ' '.join(src[m.start:m.end].split())
    new = m.apply(src)
    a = src.rfind('\n', 0, m.start) + 1
    b = new.find('\n', m.start + len(m.repl))
    text = new[a:b if b >= 0 else len(new)]
    return ' '.join(text.split())


# ------------------------------------------------------- equivalents list

def load_equivalents():
    """scripts/mutants-equivalent.txt: 'ID | mutated line | reason' per line
    (the mutated line may contain ' | ', the reason may not). A mutant matches by id, or by file, operator and mutated line when the
    file's lines have moved."""
    by_id, by_text = {}, {}
    if not os.path.exists(EQUIV_FILE):
        return by_id, by_text
    for raw in open(EQUIV_FILE, encoding='utf-8'):
        raw = raw.strip()
        if not raw or raw.startswith('#'):
            continue
        # the id has no ' | ' and the reason must not: the mutated code between them may
        mid, _, rest = raw.partition(' | ')
        text, _, reason = rest.rpartition(' | ')
        mid, text, reason = mid.strip(), text.strip(), reason.strip()
        if not text or not reason:
            sys.exit('%s: bad line (want "ID | mutated line | reason"): %s' % (EQUIV_FILE, raw))
        by_id[mid] = reason
        path, _, _, op = mid.split(':', 3)
        by_text[(path, op, text)] = reason
    return by_id, by_text


def equivalent_reason(equiv, mid, text):
    by_id, by_text = equiv
    if mid in by_id:
        return by_id[mid]
    path, _, _, op = mid.split(':', 3)
    return by_text.get((path, op, text))


# ------------------------------------------------------------- the runner

def sha(data):
    return hashlib.sha1(data if isinstance(data, bytes) else data.encode()).hexdigest()[:12]


class Workdir:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.tree = os.path.join(self.path, 'tree')
        self.build = os.path.join(self.path, 'build')
        self.marker = os.path.join(self.path, 'applied')

    def restore(self):
        """Put back a file a killed run left mutated (its original is saved beside the marker)."""
        if os.path.exists(self.marker):
            rel = open(self.marker, encoding='utf-8').read().strip()
            saved = self.marker + '.orig'
            if rel and os.path.exists(saved):
                shutil.copyfile(saved, os.path.join(self.tree, rel))
            for f in (saved, self.marker):
                if os.path.exists(f):
                    os.remove(f)

    def sync(self):
        """Make the private copy equal the working tree, touching only changed files."""
        self.restore()
        os.makedirs(self.tree, exist_ok=True)
        for part in TREE_PARTS:
            src = os.path.join(ROOT, part)
            if os.path.isdir(src):
                for dirpath, dirs, files in os.walk(src):
                    dirs[:] = [d for d in dirs if not d.startswith('build')]
                    rel = os.path.relpath(dirpath, ROOT)
                    os.makedirs(os.path.join(self.tree, rel), exist_ok=True)
                    for f in files:
                        copy_if_changed(os.path.join(dirpath, f), os.path.join(self.tree, rel, f))
            elif os.path.isfile(src):
                copy_if_changed(src, os.path.join(self.tree, part))
        # files deleted from the working tree go from the copy too
        for part in ('src', 'include', 'tests'):
            for dirpath, _, files in os.walk(os.path.join(self.tree, part)):
                rel = os.path.relpath(dirpath, self.tree)
                for f in files:
                    if not os.path.exists(os.path.join(ROOT, rel, f)):
                        os.remove(os.path.join(dirpath, f))

    def apply(self, rel, text, original):
        with open(self.marker + '.orig', 'w', encoding='utf-8') as f:
            f.write(original)
        with open(self.marker, 'w', encoding='utf-8') as f:
            f.write(rel)
        write_file(os.path.join(self.tree, rel), text)

    def revert(self, rel, original):
        write_file(os.path.join(self.tree, rel), original)
        for f in (self.marker + '.orig', self.marker):
            if os.path.exists(f):
                os.remove(f)


def copy_if_changed(src, dst):
    data = open(src, 'rb').read()
    if os.path.exists(dst) and open(dst, 'rb').read() == data:
        return
    with open(dst, 'wb') as f:
        f.write(data)
    shutil.copymode(src, dst)


def write_file(path, text):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def ninja(wd, targets, jobs):
    return run(['ninja', '-C', wd.build, '-j', str(jobs)] + targets)


def object_hashes(wd):
    out = {}
    for dirpath, _, files in os.walk(os.path.join(wd.build, 'src')):
        for f in files:
            if f.endswith('.o'):
                p = os.path.join(dirpath, f)
                out[p] = sha(open(p, 'rb').read())
    return out


# ------------------------------------------------------------ coverage map

INSTRUMENTED = '(instrumented)'

def coverage_map(wd, tests, env):
    """{test: {path: set(lines)}}: the lines of src/ each test executes, from a
    gcc --coverage build of the unmutated tree (cached in the work directory
    while src/ and tests/ are unchanged). A mutant is run only against the
    tests that execute its line: no other test can see it. The entry
    INSTRUMENTED holds, per path, every line gcov knows, executed or not: a
    line without code (a static table's initializer) is no reason to skip a
    test."""
    key = sha(''.join(open(f, 'rb').read().decode('utf-8', 'replace')
                      for part in ('src', 'tests', 'include')
                      for f in sorted(glob.glob(os.path.join(wd.tree, part, '**', '*.[ch]'), recursive=True))))
    cache = os.path.join(wd.path, 'covmap.json')
    if os.path.exists(cache):
        data = json.load(open(cache))
        if data.get('key') == key and set(data['map']) >= set(tests) | {INSTRUMENTED}:
            return {t: {p: set(v) for p, v in data['map'][t].items()} for t in tests + [INSTRUMENTED]}
    cov = os.path.join(wd.path, 'covbuild')
    if not os.path.exists(os.path.join(cov, 'build.ninja')):
        r = run(['meson', 'setup', cov, wd.tree, '-Db_coverage=true', '-Dbuildtype=debug'] + MESON_OPTS[:4])
        if r.returncode:
            sys.exit('mutate: coverage build setup failed:\n' + r.stdout)
    r = run(['ninja', '-C', cov] + ['tests/' + t for t in tests])
    if r.returncode:
        sys.exit('mutate: coverage build failed:\n' + r.stdout[-3000:])
    objdirs = sorted(glob.glob(os.path.join(cov, 'src', '*.a.p')))
    out = {INSTRUMENTED: {}}
    for t in tests:
        for f in glob.glob(os.path.join(cov, '**', '*.gcda'), recursive=True):
            os.remove(f)
        subprocess.run([os.path.join(cov, 'tests', t)], cwd=os.path.join(cov, 'tests'), env=dict(os.environ, **env),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        lines = {}
        for od in objdirs:
            gcdas = sorted(glob.glob(os.path.join(od, '*.gcda')))
            if not gcdas:
                continue
            r = subprocess.run(['gcov', '-j', '-t'] + gcdas, cwd=od, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
            for doc in r.stdout.decode('utf-8', 'replace').splitlines():
                doc = doc.strip()
                if not doc.startswith('{'):
                    continue
                for f in json.loads(doc).get('files', []):
                    src = f['file'] if os.path.isabs(f['file']) else os.path.join(cov, f['file'])
                    path = os.path.relpath(os.path.normpath(src), wd.tree)
                    if not path.startswith('src/'):
                        continue
                    hit = {ln['line_number'] for ln in f.get('lines', []) if ln.get('count', 0) > 0}
                    lines.setdefault(path, set()).update(hit)
                    out[INSTRUMENTED].setdefault(path, set()).update(ln['line_number'] for ln in f.get('lines', []))
        out[t] = lines
    json.dump({'key': key, 'map': {t: {p: sorted(v) for p, v in m.items()} for t, m in out.items()}},
              open(cache, 'w'))
    return out


def run_test(wd, name, timeout):
    """True if the test passed; False if it failed, crashed or timed out."""
    exe = os.path.join(wd.build, 'tests', name)
    env = dict(os.environ, **TEST_ENV)
    p = subprocess.Popen([exe], cwd=os.path.join(wd.build, 'tests'), env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return p.wait(timeout=timeout) == 0, False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return False, True


class Runner:
    def __init__(self, wd, results, ninja_jobs, sanitize, no_covmap):
        self.wd, self.results, self.ninja_jobs, self.sanitize = wd, results, ninja_jobs, sanitize
        self.no_covmap = no_covmap
        self.deadline = None  # time.monotonic() past which a mutant's tests stop: --time-limit's hard end
        self.times, self.pristine, self.kills = {}, {}, {}

    def setup(self):
        wd = self.wd
        wd.sync()
        if not os.path.exists(os.path.join(wd.build, 'build.ninja')):
            opts = MESON_OPTS + (SANITIZE_OPTS if self.sanitize else [])
            r = run(['meson', 'setup', wd.build, wd.tree] + opts)
            if r.returncode:
                sys.exit('mutate: meson setup failed:\n' + r.stdout)
        names = sorted(os.path.basename(f)[:-2] for f in os.listdir(os.path.join(wd.tree, 'tests'))
                       if f.startswith('test_') and f.endswith('.c'))
        names = [n for n in names if n not in SKIP_TESTS and
                 re.search(r"'%s'" % n, open(os.path.join(wd.tree, 'tests', 'meson.build')).read())]
        r = ninja(wd, ['tests/' + n for n in names], self.ninja_jobs)
        if r.returncode:
            sys.exit('mutate: the unmutated tree does not build:\n' + r.stdout[-3000:])
        self.pristine = object_hashes(wd)
        for n in names:
            t0 = time.monotonic()
            ok, _ = run_test(wd, n, 600)
            self.times[n] = time.monotonic() - t0
            if not ok:
                sys.exit('mutate: %s fails on the unmutated tree' % n)
        print('mutate: tests on the unmutated tree: ' +
              ' '.join('%s %.1fs' % (n[5:], t) for n, t in sorted(self.times.items())), flush=True)
        self.cov = None if self.no_covmap else coverage_map(wd, names, TEST_ENV)
        for rec in self.results.values():
            if rec['status'] == 'killed':
                key = (rec['path'], rec['by'])
                self.kills[key] = self.kills.get(key, 0) + 1

    def covering(self, path, line):
        """Tests that execute the line (or the two before it or the one after,
        for statements gcov attributes to a neighbouring line)."""
        near = set(range(line - 2, line + 2))
        if self.cov is None or not near & self.cov[INSTRUMENTED].get(path, set()):
            return set(self.times)
        return {t for t in self.times if near & self.cov.get(t, {}).get(path, set())}

    def order(self, path, line):
        stem = os.path.splitext(os.path.basename(path))[0]
        cover = self.covering(path, line)
        own = [t for t in OWN_TESTS.get(stem, ['test_' + stem]) if t in cover]
        rest = [t for t in cover if t not in own and t not in LAST_TESTS]
        rest.sort(key=lambda t: (-self.kills.get((path, t), 0), self.times[t]))
        return own + rest + [t for t in LAST_TESTS if t in cover and t not in own]

    def timeout(self, name):
        return max(10.0, 10 * self.times[name])

    def run_mutant(self, m, original):
        wd, t0 = self.wd, time.monotonic()
        wd.apply(m.path, m.apply(original), original)
        try:
            status, by = 'survived', ''
            order = self.order(m.path, m.line)
            if not order:  # no test executes it: it lives, if it compiles
                by = 'uncovered'
                r = ninja(wd, ['src/libsiov.a'], self.ninja_jobs)
                if r.returncode:
                    status, by = 'nocompile', ''
                elif object_hashes(wd) == self.pristine:
                    status, by = 'same-object', ''
            for k, name in enumerate(order):
                # the first test alone (most mutants die there), then the rest in one parallel build
                if k < 2:
                    r = ninja(wd, ['tests/' + t for t in (order[:1] if k == 0 else order[1:])], self.ninja_jobs)
                    if r.returncode:
                        status = 'nocompile'
                        break
                    if k == 0 and object_hashes(wd) == self.pristine:
                        status = 'same-object'
                        break
                limit = self.timeout(name)
                left = None if self.deadline is None else self.deadline - time.monotonic()
                if left is not None and left < limit:
                    if left <= 0:
                        status = 'not-run'
                        break
                    limit = left
                ok, hung = run_test(wd, name, limit)
                if hung and limit < self.timeout(name):
                    status = 'not-run'  # the run's deadline, not the mutant, stopped the test
                    break
                if not ok:
                    status, by = ('timeout' if hung else 'killed'), name
                    break
        finally:
            wd.revert(m.path, original)
        if status in ('killed', 'timeout'):
            key = (m.path, by)
            self.kills[key] = self.kills.get(key, 0) + 1
        return status, by, time.monotonic() - t0


# ------------------------------------------------------------ results file

RESULT_FIELDS = ['id', 'filehash', 'status', 'by', 'seconds', 'line']


def load_results(path):
    out = {}
    if os.path.exists(path):
        for raw in open(path, encoding='utf-8'):
            parts = raw.rstrip('\n').split('\t')
            if len(parts) != len(RESULT_FIELDS) or parts[0] == 'id':
                continue
            rec = dict(zip(RESULT_FIELDS, parts))
            rec['path'] = rec['id'].split(':', 1)[0]
            out[rec['id']] = rec
    return out


def append_result(path, rec, lock):
    with lock:
        with open(path, 'a', encoding='utf-8') as f:
            f.write('\t'.join(str(rec[k]) for k in RESULT_FIELDS) + '\n')
            f.flush()


# -------------------------------------------------------------------- main

def select(mutants, args):
    if args.file:
        files = {os.path.relpath(os.path.abspath(f), ROOT) for f in args.file}
        mutants = [m for m in mutants if m.path in files]
    if args.op:
        mutants = [m for m in mutants if m.op.split(':')[0] in args.op]
    if args.id or args.ids:
        want = set(args.id or [])
        for f in args.ids or []:
            want.update(l.split()[0] for l in open(f) if l.strip() and not l.startswith('#'))
        mutants = [m for m in mutants if m.id in want]
    if args.sample is not None:
        rng = random.Random(args.seed)
        mutants = sorted(rng.sample(mutants, min(args.sample, len(mutants))),
                         key=lambda m: (m.path, m.line, m.col, m.op))
    return mutants


def report(mutants, contents, results, equiv, verbose=True):
    counts, survivors, listed = {}, [], []
    for m in mutants:
        rec = results.get(m.id)
        if not rec or rec['filehash'] != sha(contents[m.path]):
            counts['not run'] = counts.get('not run', 0) + 1
            continue
        st = rec['status']
        counts[st] = counts.get(st, 0) + 1
        if st == 'survived':
            reason = equivalent_reason(equiv, m.id, rec['line'])
            (listed if reason else survivors).append((m, rec, reason))
    killed = counts.get('killed', 0) + counts.get('timeout', 0)
    live = counts.get('survived', 0)
    uncovered = sum(1 for _, rec, _ in survivors + listed if rec['by'] == 'uncovered')
    print('mutants: %d  killed %d (timeout %d)  survived %d (listed equivalent %d, no test executes %d)  '
          'same object %d  not compiling %d  not run %d' % (
              len(mutants), killed, counts.get('timeout', 0), live, len(listed), uncovered,
              counts.get('same-object', 0), counts.get('nocompile', 0), counts.get('not run', 0)))
    if killed + live:
        print('score: %.1f%% of compiling mutants killed (%d/%d); %.1f%% of non-equivalent ones (%d/%d)' % (
            100.0 * killed / (killed + live), killed, killed + live,
            100.0 * killed / (killed + len(survivors)) if killed + len(survivors) else 100.0,
            killed, killed + len(survivors)))
    if verbose and listed:
        print('\nsurvivors listed as equivalent (scripts/mutants-equivalent.txt):')
        for m, rec, reason in listed:
            print('  %s  %s\n      -- %s' % (m.id, rec['line'], reason))
    if survivors:
        print('\nsurvivors:')
        for m, rec, _ in survivors:
            print('  %s%s\n      %s' % (m.id, '  (no test executes it)' if rec['by'] == 'uncovered' else '',
                                      rec['line']))
    return survivors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--list', action='store_true', help='print the mutants and their count, run nothing')
    ap.add_argument('--count', action='store_true', help='print the count per file and operator')
    ap.add_argument('--sample', type=int, help='a random sample of N mutants')
    ap.add_argument('--seed', type=int, default=None, help='the sample\'s seed (default: random, printed)')
    ap.add_argument('--file', action='append', help='only mutants of this file (repeatable)')
    ap.add_argument('--op', action='append', help='only this operator (rel, logic, neg, const, ...)')
    ap.add_argument('--id', action='append', help='only this mutant id (repeatable)')
    ap.add_argument('--ids', action='append', help='only the ids listed in this file (first word per line)')
    ap.add_argument('--jobs', type=int, default=1, help='mutants run in parallel, each in its own copy')
    ap.add_argument('--workdir', default=os.path.join(ROOT, 'build-mutate'),
                    help='private tree, build and results (default build-mutate)')
    ap.add_argument('--results', help='results file (default WORKDIR/results.tsv)')
    ap.add_argument('--no-sanitize', action='store_true',
                    help='build without ASan+UBSan (faster; out-of-bounds mutants then survive)')
    ap.add_argument('--time-limit', type=float, help='start no mutant after this many seconds, setup included, '
                    'and stop one still running a minute later (the rest: not run)')
    ap.add_argument('--no-covmap', action='store_true',
                    help='skip the coverage map: every test is a candidate for every mutant (same outcome, '
                         'slower per survivor, no coverage build)')
    ap.add_argument('--rerun', action='store_true', help='run mutants that have a result already')
    ap.add_argument('--rerun-survived', action='store_true',
                    help='run again the mutants whose result is a survival (after adding tests)')
    ap.add_argument('--survivors-ok', action='store_true',
                    help='list unreviewed survivors but exit 0 for them (errors of the tool still fail)')
    ap.add_argument('--report', action='store_true', help='print score and survivors of the results so far')
    ap.add_argument('--restore', action='store_true', help='restore a copy a killed run left mutated, then exit')
    args = ap.parse_args()

    workdirs = [Workdir(args.workdir if args.jobs == 1 else os.path.join(args.workdir, 'job%d' % k))
                for k in range(args.jobs)]
    if args.restore:
        for wd in workdirs + [Workdir(args.workdir)]:
            wd.restore()
        return 0
    if args.sample is not None and args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    mutants, contents = generate(source_files())
    all_count = len(mutants)
    mutants = select(mutants, args)
    if args.count:
        per = {}
        for m in mutants:
            per.setdefault(m.path, {}).setdefault(m.op.split(':')[0], 0)
            per[m.path][m.op.split(':')[0]] += 1
        for path in sorted(per):
            print('%-32s %5d  %s' % (path, sum(per[path].values()),
                                     ' '.join('%s=%d' % kv for kv in sorted(per[path].items()))))
        print('%-32s %5d' % ('total', len(mutants)))
        return 0
    if args.list:
        for m in mutants:
            print('%s\t%s' % (m.id, mutated_line(m, contents[m.path])))
        print('%d mutants (of %d generated)' % (len(mutants), all_count), file=sys.stderr)
        return 0
    os.makedirs(args.workdir, exist_ok=True)
    results_path = args.results or os.path.join(args.workdir, 'results.tsv')
    results = load_results(results_path)
    equiv = load_equivalents()
    if args.report:
        survivors = report(mutants, contents, results, equiv)
        return 1 if survivors else 0

    if args.sample is not None:
        print('mutate: sample of %d of %d mutants, seed %d (replay: --sample %d --seed %d)' % (
            len(mutants), all_count, args.seed, args.sample, args.seed), flush=True)
    todo = [m for m in mutants if args.rerun or m.id not in results or
            results[m.id]['filehash'] != sha(contents[m.path]) or
            (args.rerun_survived and results[m.id]['status'] == 'survived')]
    print('mutate: %d mutants to run, %d with results already' % (len(todo), len(mutants) - len(todo)),
          flush=True)
    todo.sort(key=lambda m: (m.path, m.line, m.col, m.op))  # same file in a row: one compile each
    head = run(['git', '-C', ROOT, 'describe', '--always', '--dirty']).stdout.strip()
    with open(results_path, 'a', encoding='utf-8') as f:
        if f.tell() == 0:
            f.write('\t'.join(RESULT_FIELDS) + '\n')
        f.write('# %s run of %d mutants at %s (%s)\n' % (time.strftime('%Y-%m-%d %H:%M'), len(todo), head,
                                                         'sample seed %d' % args.seed
                                                         if args.sample is not None else 'selection'))

    ninja_jobs = 2 if args.jobs == 1 else 1
    runners = [Runner(wd, results, ninja_jobs, not args.no_sanitize, args.no_covmap) for wd in workdirs]
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()
        raise KeyboardInterrupt
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    lock = threading.Lock()
    queue = list(todo)
    done = [0]
    t_start = time.monotonic()

    def worker(runner):
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                if args.time_limit is not None and time.monotonic() - t_start > args.time_limit:
                    print('mutate: time limit: %d mutants not run' % len(queue), flush=True)
                    queue.clear()
                    return
                # keep a worker on one file: take the next mutant of the file it last built
                m = queue.pop(0)
            rec = {'id': m.id, 'filehash': sha(contents[m.path]),
                   'line': mutated_line(m, contents[m.path])}
            rec['status'], rec['by'], secs = runner.run_mutant(m, contents[m.path])
            if rec['status'] == 'not-run':
                print('mutate: time limit: %s stopped unfinished (not recorded)' % m.id, flush=True)
                continue
            rec['seconds'] = '%.1f' % secs
            rec['path'] = m.path
            append_result(results_path, rec, lock)
            with lock:
                results[m.id] = rec
                done[0] += 1
                print('[%d/%d %.0fs] %-9s %s %s' % (done[0], len(todo), time.monotonic() - t_start,
                                                    rec['status'], m.id, rec['by']), flush=True)

    try:
        for r in runners:
            r.setup()
            if args.time_limit is not None:  # a mutant may finish at most a minute past the limit
                r.deadline = t_start + args.time_limit + 60
        if args.jobs == 1:
            worker(runners[0])
        else:
            threads = [threading.Thread(target=worker, args=(r,)) for r in runners]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    except KeyboardInterrupt:
        stop.set()
        print('mutate: interrupted; results so far are in %s' % results_path, file=sys.stderr)
        return 130
    finally:
        for wd in workdirs:
            wd.restore()
    print('mutate: %d mutants in %.0f s' % (len(todo), time.monotonic() - t_start))
    survivors = report(mutants, contents, results, equiv, verbose=False)
    if survivors and args.survivors_ok:
        print('mutate: %d unreviewed survivor(s), reported only (--survivors-ok)' % len(survivors))
        return 0
    return 1 if survivors else 0


if __name__ == '__main__':
    sys.exit(main())
