#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# overhead.sh - `make overhead`: what irqpath's tracepoints and stats cost.
#
# One run boots the lab twice, the pristine base kernel and the patched
# kernel (same config, same initramfs and test binaries), and runs the same
# IPI throughput selftest in each:
#
#   base       the base kernel
#   off        the patched kernel, irqpath events disabled (static-key NOPs;
#              the stats are always on)
#   on         the patched kernel under `trace-cmd record` of irqpath's own
#              events (the kvm:kvm_vcpu_sched, kvm_irqfd_inject, ... that
#              fire on this path), written to a trace.dat
#
# The workload is xapic_ipi_test: vCPU 1 sends IPIs to vCPU 0, which halts
# between them, so every IPI is a wakeup and a pair of vCPU schedule-outs
# and -ins, the path kvm_vcpu_sched instruments.  Throughput is IPIs per
# second of the test's run time, REPS runs per configuration, alternating
# off/on so that a drift of the emulator's speed hits both.  The ratios are
# of medians and come from this one run; under QEMU TCG the spread between
# runs is large, so the table prints min and max too.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$IRQPATH_ROOT/scripts/lab/stages.sh"

out=${1:-$LAB/overhead}
reps=${IRQPATH_OVERHEAD_REPS:-5}
secs=${IRQPATH_OVERHEAD_SECS:-5}
events=kvm:kvm_vcpu_sched,kvm:kvm_irqfd_inject,kvm:kvm_apic_timer_expired,kvm:kvm_pi_post,kvm:kvm_pi_desc_update,kvm:kvm_pi_wakeup,kvm:kvm_pi_sync_pir,vhost:vhost_notify,vhost:vhost_signal

need_host_pkgs
[ -r "$LAB/patched/bzImage" ] && [ -r "$LAB/initramfs.cpio" ] || stage_patched_image
[ -r "$LAB/base/bzImage" ] || stage_base_kernel
mkdir -p "$out"

{
	echo "# overhead: base kernel"
	for i in $(seq "$reps"); do
		echo "sh base_$i 120 /selftests/xapic_ipi_test -s $secs"
	done
} >"$out/base.plan"
{
	echo "# overhead: patched kernel, events off and on, alternating"
	for i in $(seq "$reps"); do
		echo "sh off_$i 120 /selftests/xapic_ipi_test -s $secs"
		echo "tracesh on_$i 120 $events /selftests/xapic_ipi_test -s $secs"
	done
} >"$out/patched.plan"

log "overhead: base kernel, $reps x xapic_ipi_test -s $secs"
bash "$IRQPATH_ROOT/scripts/lab/run.sh" "$LAB/base/bzImage" "$LAB/initramfs.cpio" \
	"$out/base.plan" "$out/base" 900
log "overhead: patched kernel, $reps x (events off, events on)"
bash "$IRQPATH_ROOT/scripts/lab/run.sh" "$LAB/patched/bzImage" "$LAB/initramfs.cpio" \
	"$out/patched.plan" "$out/patched" 900

python3 - "$out" "$reps" "$secs" <<'PY' | tee "$out/overhead.txt"
import os, re, statistics, sys
out, reps, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent_re = re.compile(r"Sending vCPU sent (\d+) IPIs")
rows = {}
for cfg, run in (("base", "base"), ("off", "patched"), ("on", "patched")):
    vals = []
    for i in range(1, reps + 1):
        path = os.path.join(out, run, "logs", f"{cfg}_{i}.log")
        with open(path, errors="replace") as f:
            m = sent_re.search(f.read())
        if not m:
            sys.exit(f"overhead: no IPI count in {path}")
        vals.append(int(m.group(1)) / secs)
    rows[cfg] = vals
print(f"xapic_ipi_test -s {secs}, {reps} runs per configuration, IPIs per second:")
print(f"  {'configuration':34} {'median':>8} {'min':>8} {'max':>8}")
names = {"base": "base kernel", "off": "patched, irqpath events off",
         "on": "patched, irqpath events on"}
for cfg, vals in rows.items():
    print(f"  {names[cfg]:34} {statistics.median(vals):8.0f} {min(vals):8.0f} {max(vals):8.0f}")
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"  ratio patched(off)/base: {med['off'] / med['base']:.3f}")
print(f"  ratio patched(on)/base:  {med['on'] / med['base']:.3f}")
print(f"  ratio on/off:            {med['on'] / med['off']:.3f}")
PY
