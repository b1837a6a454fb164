#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The lab's passthrough device is ready for path 3 (VFIO): QEMU's edu device
# (1234:11e8) is present, has an MSI capability, sits in an IOMMU group of
# the emulated VT-d with interrupt remapping enabled, and binds to vfio-pci.
fail() { echo "FAIL: $*"; exit 1; }

dmesg | grep -q 'DMAR-IR: Enabled IRQ remapping' || fail "VT-d interrupt remapping is off"
dev=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && dev=$d
done
[ -n "$dev" ] || fail "no edu device (1234:11e8) on the PCI bus"
bdf=${dev##*/}

# Walk the capability list in config space (pointer at 0x34) for MSI (05).
cfg() { od -An -tu1 -j "$1" -N 1 "$dev/config" | tr -d ' '; }
ptr=$(cfg 52) msi=no
while [ -n "$ptr" ] && [ "$ptr" -ne 0 ]; do
	[ "$(cfg "$ptr")" -eq 5 ] && msi=yes
	ptr=$(cfg $((ptr + 1)))
done
[ $msi = yes ] || fail "edu $bdf has no MSI capability"

[ -e "$dev/iommu_group" ] || fail "edu $bdf has no IOMMU group"
grp=$(readlink "$dev/iommu_group"); grp=${grp##*/}
echo "edu $bdf: MSI capability, IOMMU group $grp"

echo vfio-pci >"$dev/driver_override"
[ -e "$dev/driver" ] && echo "$bdf" >"$dev/driver/unbind"
echo "$bdf" >/sys/bus/pci/drivers_probe
drv=$(readlink "$dev/driver"); drv=${drv##*/}
[ "$drv" = vfio-pci ] || fail "edu $bdf bound to '${drv:-nothing}', not vfio-pci"
[ -c "/dev/vfio/$grp" ] || fail "/dev/vfio/$grp is missing"
echo "edu $bdf bound to vfio-pci, /dev/vfio/$grp ready"
