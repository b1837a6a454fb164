#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh - the lab guest's root file system, as a newc cpio archive.
#
# Usage: scripts/lab/initramfs.sh OUT.cpio SELFTESTS_DIR
#
# Contents: busybox (static), trace-cmd with the shared libraries ldd lists
# and libtraceevent's plugins, the KVM selftests from SELFTESTS_DIR under
# /selftests, and scripts/lab/guest/{init,runner,flush}.  The per-run plan
# is a second, small archive that scripts/lab/run.sh appends (the kernel
# unpacks concatenated archives in order).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:?usage: initramfs.sh OUT.cpio SELFTESTS_DIR}
tests=${2:?usage: initramfs.sh OUT.cpio SELFTESTS_DIR}
need_pkg busybox-static trace-cmd cpio
[ -d "$tests" ] || die "no selftests in $tests (scripts/kernel/selftests.sh)"

root=$(mktemp -d "$IRQPATH_BUILD/rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,lib64,proc,sys,dev,tmp,results,irqpath,selftests}
mkdir -p "$root/sys/kernel/tracing" "$root/sys/kernel/debug"
install -m 755 /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 755 "$IRQPATH_ROOT/scripts/lab/guest/init" "$root/init"
install -m 755 "$IRQPATH_ROOT/scripts/lab/guest/runner" "$root/irqpath/runner"
install -m 755 "$IRQPATH_ROOT/scripts/lab/guest/flush" "$root/irqpath/flush"
mkdir -p "$root/irqpath/checks"
install -m 755 "$IRQPATH_ROOT"/scripts/lab/guest/checks/*.sh "$root/irqpath/checks/"

# trace-cmd and what it links against.
copy_with_libs() {
	local bin=$1 lib
	install -D -m 755 "$bin" "$root$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
	done
}
copy_with_libs /usr/bin/trace-cmd
# The selftests' assertion handler symbolizes its backtrace with addr2line.
[ -x /usr/bin/addr2line ] && copy_with_libs /usr/bin/addr2line
plugins=/usr/lib/x86_64-linux-gnu/traceevent/plugins
if [ -d "$plugins" ]; then
	mkdir -p "$root$plugins"
	cp "$plugins"/*.so "$root$plugins/"
fi

cp -a "$tests"/. "$root/selftests/"
(cd "$root" && find . -print0 | cpio --null -o -H newc --owner 0:0 --quiet) >"$out"
log "initramfs $out: $(du -h "$out" | cut -f1), $(find "$root/selftests" -type f -perm -u+x | wc -l) selftests"
