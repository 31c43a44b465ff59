#!/usr/bin/env bash
# Build a small program against libsiov the two ways README documents:
# pkg-config against an installed copy, and Meson with libsiov as a subproject.
#   scripts/check-consumers.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/app.c" <<'C'
#include <siov/siov.h>
#include <stdio.h>
int main(void)
{
    struct siov_mem *mem = siov_mem_new_flat(1 << 24);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    struct siov_xlate x;
    /* translation is off until a driver enables it: the address passes through */
    siov_fault f = siov_translate(iommu, SIOV_SID(0, 1, 0), SIOV_NO_PASID, 0x1234, SIOV_ACCESS_READ, &x);
    printf("%s %s 0x%llx\n", siov_version(), siov_fault_name(f), (unsigned long long)x.addr);
    int ok = f == SIOV_OK && x.addr == 0x1234;
    siov_iommu_free(iommu);
    siov_mem_free(mem);
    return ok ? 0 : 1;
}
C

echo "-- pkg-config against an installed copy"
DESTDIR="$work/root" meson install -C "$build" --quiet
pc=$(dirname "$(find "$work/root" -name libsiov.pc | head -1)")
prefix=$(sed -n 's/^prefix=//p' "$pc/libsiov.pc")
export PKG_CONFIG_SYSROOT_DIR="$work/root" PKG_CONFIG_PATH="$pc"
# The library needs libc alone: the .pc must require nothing, so that a
# machine with only a compiler and pkg-config can build against libsiov.
if grep -q '^Requires' "$pc/libsiov.pc" || [ -n "$(pkg-config --print-requires --print-requires-private libsiov)" ]; then
  echo "libsiov.pc requires packages:"; cat "$pc/libsiov.pc"; exit 1
fi
if readelf -d "$work/root$prefix"/lib/*/libsiov.so | grep NEEDED | grep -v 'libc\.so'; then
  echo "libsiov.so needs more than libc"; exit 1
fi
cc -std=c11 -Wall -Werror "$work/app.c" -o "$work/app-pc" $(pkg-config --cflags --libs libsiov)
LD_LIBRARY_PATH="$work/root$prefix/lib/$(basename "$(dirname "$pc")")" "$work/app-pc"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH

echo "-- the build tree, through the uninstalled .pc (README, Linking)"
cc -std=c11 -Wall -Werror "$work/app.c" -o "$work/app-tree" \
  $(PKG_CONFIG_PATH="$build/meson-uninstalled" pkg-config --cflags --libs libsiov)
LD_LIBRARY_PATH="$build/src" "$work/app-tree"

echo "-- Meson subproject"
mkdir -p "$work/proj/subprojects"
ln -s "$root" "$work/proj/subprojects/libsiov"
cp "$work/app.c" "$work/proj/app.c"
cat > "$work/proj/meson.build" <<'M'
project('consumer', 'c', default_options : ['c_std=c11'])
siov_dep = dependency('libsiov', fallback : ['libsiov', 'siov_dep'])
test('app', executable('app', 'app.c', dependencies : siov_dep))
M
meson setup "$work/proj/build" "$work/proj" --force-fallback-for=libsiov >/dev/null
meson test -C "$work/proj/build" --print-errorlogs app
# As a subproject, libsiov builds its library only and installs nothing.
if meson introspect --targets "$work/proj/build" | grep -Eq '"name": "(siov-sim|siov-bench|test_[a-z_]+|dma-copy-engine)"'; then
  echo "the subproject built its tools or tests"; exit 1
fi
if [ "$(meson introspect --installed "$work/proj/build")" != "{}" ]; then
  echo "the subproject installs files:"; meson introspect --installed "$work/proj/build"; exit 1
fi
echo "consumers: OK"
