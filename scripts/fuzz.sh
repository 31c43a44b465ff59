#!/usr/bin/env bash
# Build the libFuzzer harnesses (fuzz/, docs/fuzzing.md), generate their seed
# corpora and run each harness for SECONDS (default 60). On a finding it prints
# the report, the reproducer's path and its bytes in hex, and exits nonzero.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     e.g. scripts/fuzz.sh 60 fuzz_walk
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_JOBS
# (parallel harnesses, default 1), FUZZ_NICE (nice level, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
nice_level=${FUZZ_NICE:-10}

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is missing (scripts/install-deps.sh --fuzz installs it)" >&2
  exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Dtests=false -Dbench=false -Dexamples=false
fi
ninja -C "$build"

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for h in fuzz_walk fuzz_queue fuzz_irq fuzz_prq fuzz_scenario fuzz_trace; do
    [ -x "$build/fuzz/$h" ] && harnesses+=("$h")
  done
fi

# Seed corpora: generated, then merged into the working corpora kept between runs.
seeds="$build/corpus-seed"
rm -rf "$seeds"
"$build/fuzz/fuzz_gen_corpus" "$seeds"
if [ -x "$build/tools/siov-sim" ]; then
  "$build/tools/siov-sim" --print-demo > "$seeds/scenario/demo" || true
fi
export FUZZ_BUILD="$build" FUZZ_NICE="$nice_level"
run_one() { fuzz/run.sh "$1" "$secs"; }

failed=0
pids=()
names=()
for h in "${harnesses[@]}"; do
  if [ "$jobs" -le 1 ]; then
    run_one "$h" || failed=1
  else
    run_one "$h" & pids+=($!) names+=("$h")
    if [ ${#pids[@]} -ge "$jobs" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done

if [ $failed -ne 0 ]; then
  echo "fuzz.sh: FINDINGS (reproducers in $build/fuzz-artifacts)"
  exit 1
fi
echo "fuzz.sh: no findings"
