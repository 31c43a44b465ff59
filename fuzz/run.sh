#!/usr/bin/env bash
# Run one fuzz harness for a bounded time over its working corpus.
#   fuzz/run.sh HARNESS SECONDS [libFuzzer options...]
# HARNESS is fuzz_walk, fuzz_queue, fuzz_irq, fuzz_prq, fuzz_scenario or fuzz_trace, built in $FUZZ_BUILD
# (default build-fuzz); its corpus is $FUZZ_BUILD/corpus-<kind> (seeded from
# $FUZZ_BUILD/corpus-seed/<kind> when present), its log $FUZZ_BUILD/<harness>.log,
# its reproducers $FUZZ_BUILD/fuzz-artifacts/<harness>-*. Prints executions
# and exec/s; on a finding prints the report, the reproducer and its hex and
# exits 1. FUZZ_NICE sets the nice level (default 10).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 HARNESS SECONDS [libFuzzer options...]" >&2; exit 2; }
name=$1 secs=$2
shift 2
build=${FUZZ_BUILD:-build-fuzz}
kind=${name#fuzz_}
corpus="$build/corpus-$kind"
log="$build/$name.log"
artifacts="$build/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts"
[ -d "$build/corpus-seed/$kind" ] && cp -n "$build/corpus-seed/$kind"/* "$corpus"/ 2>/dev/null || true
rm -f "$artifacts/$name"-*

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
extra=()
# A scenario may ask for any amount of guest memory: a refused allocation is
# an error path to exercise, not a finding.
[ "$kind" = scenario ] && extra=(-malloc_limit_mb=4096 -rss_limit_mb=4096 -max_len=4096)
[ "$kind" = trace ] && extra=(-max_len=4096)

echo "== $name: ${secs}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
set +e
nice -n "${FUZZ_NICE:-10}" "$build/fuzz/$name" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "${extra[@]}" "$@" "$corpus" > "$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
if [ -z "$execs" ]; then # -fork mode: the last "#N: cov: ... exec/s S ..." line
  last=$(grep -E '^#[0-9]+: cov' "$log" | tail -1)
  execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
  speed=$(echo "$last" | sed -n 's/.*exec\/s \([0-9]*\).*/\1/p')
fi
echo "   $name: ${execs:-?} executions, ${speed:-?} exec/s, $(grep -o 'cov: [0-9]*' "$log" | tail -1), corpus $(ls "$corpus" | wc -l), exit $rc"

found=0
for a in "$artifacts/$name"-*; do
  [ -e "$a" ] || continue
  found=1
  echo "!! $name found something:"
  grep -E -A30 'FUZZ CHECK FAILED|MISMATCH|ERROR: (Address|Leak|libFuzzer)|runtime error|SUMMARY' "$log" | head -60
  echo "!! reproducer $a ($(stat -c %s "$a") bytes); replay: $build/fuzz/$name $a"
  od -A x -t x1 -v "$a" | head -64
done
if [ $rc -ne 0 ] && [ $found -eq 0 ]; then
  echo "!! $name exited with $rc without a reproducer; log tail:"
  tail -30 "$log"
  found=1
fi
exit $found
