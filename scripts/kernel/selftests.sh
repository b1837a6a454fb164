#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests.sh - build KVM's selftests of a kernel tree, static, for the lab.
#
# Usage: scripts/kernel/selftests.sh TREE OUTDIR
#
# Installs the tree's UAPI headers into TREE/usr/include (make headers),
# builds tools/testing/selftests/kvm with USERLDFLAGS=-static and copies
# every test binary, without debug info, into OUTDIR (x86_64/foo_test -> foo_test).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

tree=${1:?usage: selftests.sh TREE OUTDIR}
out=${2:?usage: selftests.sh TREE OUTDIR}
kst=$tree/tools/testing/selftests/kvm
logf=$IRQPATH_BUILD/selftests-build.log
mkdir -p "$IRQPATH_BUILD"

log "building KVM selftests of $tree"
run_logged "$logf" make -C "$tree" -j"$IRQPATH_JOBS" headers
run_logged "$logf.kvm" make -C "$kst" -j"$IRQPATH_JOBS" USERLDFLAGS=-static CC="ccache gcc"
rm -rf "$out"; mkdir -p "$out"
# The test list is the Makefile's own (TEST_GEN_PROGS for x86_64).
make -s -C "$kst" --no-print-directory -f - print-tests <<'MK' >"$out/.tests"
include Makefile
print-tests:
	@printf '%s\n' $(TEST_GEN_PROGS_x86_64)
MK
n=0
while IFS= read -r t; do
	[ -n "$t" ] || continue
	[ -x "$kst/$t" ] || die "selftest $t was not built (see $logf.kvm)"
	install -m 755 "$kst/$t" "$out/$(basename "$t")"
	# Keep the symbol table: the assertion handler's backtrace (addr2line
	# in the guest) then names functions; only the debug info goes.
	strip --strip-debug "$out/$(basename "$t")"
	n=$((n + 1))
done <"$out/.tests"
sed -i 's|.*/||' "$out/.tests"
log "$n KVM selftests in $out"
