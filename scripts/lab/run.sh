#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - boot a lab kernel under QEMU TCG and run a plan in it.
#
# Usage: scripts/lab/run.sh KERNEL INITRAMFS PLAN OUTDIR [TIMEOUT_SECS]
#
# The machine: q35 with kernel-irqchip=split, an emulated VT-d with
# interrupt remapping (intremap=on), QEMU's edu device (an MSI-capable PCI
# device for vfio-pci), 2 vCPUs of "-cpu max" (AMD SVM with nested paging,
# so kvm_amd runs real KVM inside), 2 GiB.  The console goes to
# OUTDIR/console.log.  Results come back on a raw virtio disk that the
# guest writes as a tar archive; they are unpacked into OUTDIR.
#
# Exit status: 0 when the guest wrote its results, 1 otherwise.  A guest
# that outlives TIMEOUT_SECS (default 1500) is killed and the console's
# tail printed.  A run that ends with no results and no panic on the
# console (QEMU's silent guest reset, see README) is booted again once, and
# the retry is reported in OUTDIR/boot-retries.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

kernel=${1:?usage: run.sh KERNEL INITRAMFS PLAN OUTDIR [TIMEOUT]}
initrd=${2:?}
plan=${3:?}
out=${4:?}
limit=${5:-1500}
need_cmd qemu-system-x86_64 qemu-system-x86
need_cmd cpio cpio
for f in "$kernel" "$initrd" "$plan"; do [ -r "$f" ] || die "missing $f"; done

rm -rf "$out"; mkdir -p "$out"
# The plan travels as a second archive appended to the initramfs.
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/irqpath"
cp "$plan" "$stage/irqpath/plan"
cp "$initrd" "$out/.initrd"
(cd "$stage" && find . | cpio -o -H newc --owner 0:0 --quiet) >>"$out/.initrd"

boot() {
	truncate -s 0 "$out/results.img"
	truncate -s 1600M "$out/results.img"
	local t0 rc=0
	t0=$(date +%s)
	timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m 2G \
		-machine q35,kernel-irqchip=split \
		-device intel-iommu,intremap=on \
		-device edu \
		-kernel "$kernel" -initrd "$out/.initrd" \
		-append "console=ttyS0,115200 panic=-1 tsc=reliable intel_iommu=on kvm_amd.nested=1 ${IRQPATH_CMDLINE:-}" \
		-drive file="$out/results.img",format=raw,if=virtio,cache=unsafe \
		-display none -monitor none -serial file:"$out/console.log" \
		-no-reboot </dev/null >"$out/qemu.log" 2>&1 || rc=$?
	echo $(( $(date +%s) - t0 )) >"$out/boot-seconds"
	return $rc
}

tries=0
while :; do
	rc=0
	boot || rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		printf 'lab: TIMEOUT: the guest ran past %s s; console tail (%s):\n' "$limit" "$out/console.log" >&2
		tail -n 40 "$out/console.log" >&2
		exit 1
	fi
	[ $rc -eq 0 ] || { cat "$out/qemu.log" >&2; die "qemu exited $rc"; }
	# QEMU exits 0 when it is killed by a signal: that is not the guest.
	if grep -q 'terminating on signal' "$out/qemu.log"; then
		cat "$out/qemu.log" >&2
		die "qemu was killed from outside"
	fi
	if tar xf "$out/results.img" -C "$out" 2>/dev/null && [ -f "$out/tap.txt" ]; then
		break
	fi
	if grep -q 'Kernel panic' "$out/console.log" || [ $tries -ge 1 ]; then
		printf 'lab: no results from the guest; console tail (%s):\n' "$out/console.log" >&2
		tail -n 40 "$out/console.log" >&2
		exit 1
	fi
	tries=$((tries + 1))
	cp "$out/console.log" "$out/console.try$tries.log"
	echo "boot retry $tries: QEMU exited 0 with no results and no panic (silent guest reset)" |
		tee -a "$out/boot-retries" >&2
done
rm -f "$out/results.img" "$out/.initrd"
exit 0
