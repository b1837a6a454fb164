#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab.sh - `make lab`: install what is missing, apply the series to the
# pristine 6.12 base, build the lab kernel, the KVM selftests and the guest
# image, boot the nested-SVM lab under QEMU TCG and run today's scenarios
# (scripts/lab/plans/lab.plan).  Prints a per-test summary, the events
# recorded per type, and where the artefacts are (build/lab/).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$IRQPATH_ROOT/scripts/lab/stages.sh"

: >"$LAB/timings"
t0=$(date +%s)
timed "host packages" need_host_pkgs
timed "base tree + series" stage_series
timed "patched kernel + image" stage_patched_image
log "booting the lab (console: $LAB/run/console.log)"
timed "lab run" bash "$IRQPATH_ROOT/scripts/lab/run.sh" "$LAB/patched/bzImage" \
	"$LAB/initramfs.cpio" "$IRQPATH_ROOT/scripts/lab/plans/lab.plan" "$LAB/run" \
	"${IRQPATH_LAB_TIMEOUT:-1200}"
rc=0
python3 "$IRQPATH_ROOT/scripts/lab/report.py" summary "$LAB/run" \
	$(trace_args) --require-trace --json "$LAB/run/summary.json" || rc=$?
# The analyzer's per-path, per-hop table for the lab's recordings, with
# report.json, the Perfetto trace and the SVG histograms under build/lab/.
echo
log "irqpath report of the lab's recordings"
if make -s -C "$IRQPATH_ROOT" analyzer >"$LAB/analyzer-build.log" 2>&1; then
	"$IRQPATH_ROOT/build/analyzer/irqpath" report --no-progress \
		--json "$LAB/report.json" --perfetto "$LAB/trace.perfetto.json" \
		--svg "$LAB/latency.svg" "$LAB"/run/*.dat || rc=1
else
	echo "analyzer build failed: $LAB/analyzer-build.log"; rc=1
fi
stage_time "make lab (total)" $(( $(date +%s) - t0 ))
echo
echo "stage timings:"; sed 's/^/  /' "$LAB/timings"
echo
echo "artefacts in $LAB:"
echo "  patched/bzImage          the lab kernel (series on $(bash "$IRQPATH_ROOT/scripts/series/base.sh"))"
echo "  initramfs.cpio           guest image: busybox, trace-cmd, $(wc -l <"$LAB/selftests/.tests") KVM selftests"
echo "  run/console.log          the guest console"
echo "  run/tap.txt, run/logs/   per-test TAP results and output"
for t in "$LAB"/run/*.dat; do
	[ -e "$t" ] || continue
	printf '  run/%-22s trace-cmd recording (kvm:*, sched) of %s\n' "${t##*/}" "$(basename "$t" .dat)"
done
echo "  run/dmesg.txt, run/kunit.txt, run/summary.json"
echo "  report.json, trace.perfetto.json (ui.perfetto.dev), latency.svg: irqpath report"
exit $rc
