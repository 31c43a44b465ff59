#!/usr/bin/env bash
# Mutation testing of src/ (docs/testing.md): generates mutants mechanically,
# runs the tests on each, prints the score and the survivors. Every option is
# scripts/mutate.py's (--help). Mutants are applied to a private copy of the
# tree under the work directory (build-mutate by default), never to the
# working tree; whatever ends the run, the copy is restored on exit.
#   scripts/mutate.sh --list | --count
#   scripts/mutate.sh [--sample N [--seed S]] [--file src/model/x.c] [--jobs N]
#   scripts/mutate.sh --report
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trap 'python3 "$here/mutate.py" --restore "$@" >/dev/null 2>&1 || true' EXIT
python3 "$here/mutate.py" "$@"
