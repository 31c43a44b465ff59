#!/usr/bin/env bash
# Install the Debian packages libsiov needs to build and test, when missing.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --fuzz   also clang and its sanitizer runtimes (fuzzing)
#   scripts/install-deps.sh --extra  also valgrind (CI's memory check) and GLib (the
#                                    optional qemu-style baseline of siov-bench)
set -euo pipefail

pkgs=(meson ninja-build gcc pkg-config libcmocka-dev)
for arg in "$@"; do
  case "$arg" in
    --fuzz) pkgs+=(clang libclang-rt-dev llvm) ;;
    --extra) pkgs+=(valgrind libglib2.0-dev) ;;
    *) echo "usage: $0 [--fuzz] [--extra]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
