#!/usr/bin/env bash
# Line and branch coverage of src/ from a coverage build: runs the test suite
# and replays the fuzz corpora, then prints, per file of src/ and in total,
# the lines and the branches covered.
#   scripts/coverage.sh [--tests] [--fuzz] [--quick] [--min-branch=PCT]
#     --tests   only the CMocka suite        --fuzz   only the fuzz corpora
#     --quick   the quick test suite only (skips the slow differential/stress runs)
#     --min-branch=PCT  exit 1 if a file of src/ has less branch coverage
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
do_tests=1 do_fuzz=1 quick=0 min_branch=0
for a in "$@"; do
  case "$a" in
    --tests) do_fuzz=0 ;;
    --fuzz) do_tests=0 ;;
    --quick) quick=1 ;;
    --min-branch=*) min_branch=${a#--min-branch=} ;;
    *) echo "usage: $0 [--tests] [--fuzz] [--quick] [--min-branch=PCT]" >&2; exit 2 ;;
  esac
done
suite=()
[ $quick -eq 1 ] && suite=(--suite quick)

if command -v clang >/dev/null && command -v llvm-profdata >/dev/null && command -v llvm-cov >/dev/null; then
  # no value profiling: its runtime would allocate in the middle of
  # test_driver_faults' allocation counting
  flags='-fprofile-instr-generate -fcoverage-mapping -mllvm -disable-vp=true'
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
  echo "== src/ covered (llvm-cov): lines and branches (each condition's true and false outcome)"
  llvm-cov report "$first" "${rest[@]}" -instr-profile="$build/coverage.profdata" \
    -show-region-summary=false -show-branch-summary=true -show-instantiation-summary=false > "$build/coverage.txt"
  # columns after the name: Functions, Missed, Executed, Lines, Missed, Cover, Branches, Missed, Cover;
  # the table names files relative to the build directory or absolute
  sed -e "s|^$root/||" -e 's|^\.\./||' "$build/coverage.txt" |
    awk -v min="$min_branch" -f "$root/scripts/coverage-table.awk"
else
  echo "coverage.sh: clang/llvm-cov not found: gcc --coverage, tests only"
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Db_coverage=true -Dbench=false -Dexamples=false -Dbuildtype=debug
  fi
  ninja -C "$build"
  find "$build" -name '*.gcda' -delete
  meson test -C "$build" "${suite[@]}" --print-errorlogs || echo "coverage.sh: some tests failed (coverage still reported)"
  echo "== src/ covered (gcov): lines and branches (every edge of each conditional jump)"
  for obj in "$build"/src/libsiov_*.a.p/*.gcda; do
    # objects are named <wing>_<file>.c.gcda for src/<wing>/<file>.c
    src=$(basename "$obj" .c.gcda | sed 's|_|/|').c
    (cd "$(dirname "$obj")" && gcov -b -n "$(basename "$obj")" 2>/dev/null) |
      awk -v want="$src" '/^File/ { f = ($2 ~ want) }
        f && /^Lines executed/ { split($2, a, ":"); l = a[2]; n = $4 }
        f && /^Branches executed/ { }
        f && /^Taken at least once/ { split($4, b, ":"); bp = b[2]; bn = $6 }
        END { printf "src/%s %d %d %d %d\n", want, n * l / 100 + 0.5, n, bn * bp / 100 + 0.5, bn }' |
      sed 's/%//g'
  done | awk -v min="$min_branch" '{ printf "%s 0 0 0 %d %d 0 %d %d 0\n", $1, $3, $3 - $2, $5, $5 - $4 }' |
    awk -v min="$min_branch" -f scripts/coverage-table.awk
fi
