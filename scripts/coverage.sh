#!/usr/bin/env bash
# Line coverage of src/ from a coverage build: runs the test suite and replays
# the fuzz corpora, then prints lines covered per file of src/ and in total.
#   scripts/coverage.sh [--tests] [--fuzz] [--quick]
#     --tests   only the CMocka suite        --fuzz   only the fuzz corpora
#     --quick   the quick test suite only (skips the slow differential/stress runs)
# With clang: source-based coverage (-fprofile-instr-generate
# -fcoverage-mapping, llvm-profdata, llvm-cov). Without clang: gcc --coverage
# and gcov, tests only (the harnesses need clang).
# Corpora come from $FUZZ_BUILD/corpus-<kind> (default build-fuzz, as
# scripts/fuzz.sh leaves them); absent ones are replaced by the seed corpora.
# Environment: COV_BUILD (default build-cov).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${COV_BUILD:-build-cov}
fuzz_build=${FUZZ_BUILD:-build-fuzz}
do_tests=1 do_fuzz=1 quick=0
for a in "$@"; do
  case "$a" in
    --tests) do_fuzz=0 ;;
    --fuzz) do_tests=0 ;;
    --quick) quick=1 ;;
    *) echo "usage: $0 [--tests] [--fuzz] [--quick]" >&2; exit 2 ;;
  esac
done
suite=()
[ $quick -eq 1 ] && suite=(--suite quick)

if command -v clang >/dev/null && command -v llvm-profdata >/dev/null && command -v llvm-cov >/dev/null; then
  flags='-fprofile-instr-generate -fcoverage-mapping'
  if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzz=true -Dbench=false -Dexamples=false -Dbuildtype=debug \
      -Dc_args="$flags" -Dc_link_args="$flags"
  fi
  ninja -C "$build"
  prof="$root/$build/profraw"
  rm -rf "$prof"
  mkdir -p "$prof"
  export LLVM_PROFILE_FILE="$prof/%p-%m.profraw"
  objects=()
  if [ $do_tests -eq 1 ]; then
    meson test -C "$build" "${suite[@]}" --print-errorlogs || echo "coverage.sh: some tests failed (coverage still reported)"
    for t in "$build"/tests/test_*; do
      [ -x "$t" ] && [ -f "$t" ] && objects+=(-object "$t")
    done
  fi
  if [ $do_fuzz -eq 1 ]; then
    seeds="$build/corpus-seed"
    rm -rf "$seeds"
    "$build/fuzz/fuzz_gen_corpus" "$seeds"
    for kind in walk queue irq scenario; do
      exe="$build/fuzz/fuzz_$kind-replay"
      [ -x "$exe" ] || continue
      corpus="$fuzz_build/corpus-$kind"
      [ -d "$corpus" ] || corpus="$seeds/$kind"
      echo "== replaying $corpus ($(ls "$corpus" | wc -l) inputs) through fuzz_$kind"
      "$exe" "$corpus" 2>&1 | tail -1
      objects+=(-object "$exe")
    done
  fi
  [ ${#objects[@]} -gt 0 ] || { echo "coverage.sh: nothing ran" >&2; exit 1; }
  llvm-profdata merge -sparse -o "$build/coverage.profdata" "$prof"/*.profraw
  # -object takes the first binary as a positional argument in older llvm-cov
  first=${objects[1]}
  rest=("${objects[@]:2}")
  echo
  echo "== lines of src/ covered (llvm-cov)"
  # columns: Filename, Functions, Missed Functions, Executed, Lines, Missed Lines, Cover
  llvm-cov report "$first" "${rest[@]}" -instr-profile="$build/coverage.profdata" \
    -show-region-summary=false -show-branch-summary=false -show-instantiation-summary=false > "$build/coverage.txt"
  # keep src/ (the table names files relative to the build directory or absolute)
  sed -e "s|^$root/||" -e 's|^\.\./||' "$build/coverage.txt" | awk '
    /^src\// { lines += $5; missed += $6
                printf "%-24s %6d / %6d lines  %6.2f%%\n", $1, $5 - $6, $5, $5 ? 100 * ($5 - $6) / $5 : 100 }
    END { if (lines) printf "%-24s %6d / %6d lines  %6.2f%%\n", "TOTAL src/", lines - missed, lines, 100 * (lines - missed) / lines }'
else
  echo "coverage.sh: clang/llvm-cov not found: gcc --coverage, tests only"
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Db_coverage=true -Dbench=false -Dexamples=false -Dbuildtype=debug
  fi
  ninja -C "$build"
  find "$build" -name '*.gcda' -delete
  meson test -C "$build" "${suite[@]}" --print-errorlogs || echo "coverage.sh: some tests failed (coverage still reported)"
  echo "== lines of src/ covered (gcov)"
  total=0 hit=0
  for obj in "$build"/src/libsiov_*.a.p/*.gcda; do
    # objects are named <wing>_<file>.c.gcda for src/<wing>/<file>.c
    src=$(basename "$obj" .c.gcda | sed 's|_|/|').c
    line=$(cd "$(dirname "$obj")" && gcov -n "$(basename "$obj")" 2>/dev/null |
      awk -v want="$src" '/^File/ { f = ($2 ~ want) } f && /^Lines executed/ { print; exit }')
    pct=$(echo "$line" | sed -n 's/Lines executed:\([0-9.]*\)% of \([0-9]*\)/\1 \2/p')
    [ -n "$pct" ] || continue
    set -- $pct
    n=$2 h=$(awk -v p="$1" -v n="$2" 'BEGIN { printf "%d", p * n / 100 + 0.5 }')
    printf '%-24s %5d / %5d lines  %5.1f%%\n' "src/$src" "$h" "$n" "$1"
    total=$((total + n)) hit=$((hit + h))
  done
  [ $total -gt 0 ] && awk -v h=$hit -v t=$total 'BEGIN { printf "TOTAL %d / %d lines  %.1f%%\n", h, t, 100 * h / t }'
fi
