#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# restart-check.sh - prove that scripts/lab/run.sh restarts a guest that
# stops making progress, or dies of QEMU's stale-int3 crash, at the step
# it stopped in, keeps what the earlier boots reported, and gives up on a
# step that stops the guest twice.
#
# Usage: scripts/lab/restart-check.sh KERNEL INITRAMFS OUTDIR
#
# The plan's steps stop the guest on purpose, the way the emulator does:
# "kill -STOP -1" stops every process but init (the heartbeat stops: a
# frozen guest), and stopping the runner's `timeout` leaves a step running
# past its limit (a step the guest cannot kill).  One step prints the
# console of QEMU's stale-int3 crash (see stale_int3 in run.sh) and powers
# the guest off: the host sees what it would see after that crash.  A
# resumed boot's plan starts with "start N", which is how a step knows it
# runs again.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

kernel=${1:?usage: restart-check.sh KERNEL INITRAMFS OUTDIR}
initrd=${2:?}
out=${3:?}
mkdir -p "$IRQPATH_BUILD"
plan=$(mktemp "$IRQPATH_BUILD/restart-plan.XXXXXX")
trap 'rm -f "$plan"' EXIT
cat >"$plan" <<'EOF'
sh first 60 echo first ran
sh freeze_once 60 if grep -q '^start 1$' /irqpath/plan; then kill -STOP -1; sleep 600; fi; echo freeze_once ran
sh overrun_once 5 if grep -q '^start 2$' /irqpath/plan; then kill -STOP $PPID; sleep 600; fi; echo overrun_once ran
sh int3_once 60 if grep -q '^start 3$' /irqpath/plan; then printf '[ 1.0] Oops: int3: 0000 PREEMPT SMP KASAN\n[ 1.0] Code: 4c 89 e2 e8 <f6> e7 42 ff\n[ 1.0] Kernel panic - not syncing: Fatal exception in interrupt\n' >/dev/console; poweroff -f; fi; echo int3_once ran
sh freeze_always 60 kill -STOP -1; sleep 600
sh last 60 echo last ran
EOF

rc=0
IRQPATH_HEARTBEAT_STALL=20 IRQPATH_STEP_MARGIN=15 IRQPATH_STEP_RESTARTS=1 \
	bash "$(dirname "$0")/run.sh" "$kernel" "$initrd" "$plan" "$out" 900 || rc=$?
[ $rc -eq 0 ] || die "run.sh exited $rc (see $out/console.log)"

failures=0
want() { # REGEX WHAT: a line of tap.txt
	if grep -qE "$1" "$out/tap.txt"; then
		echo "ok: $2"
	else
		echo "FAILED: $2 (no line matching '$1' in $out/tap.txt)"
		failures=$((failures + 1))
	fi
}
want '^ok 1 first$' "a step before the freeze keeps its result"
want '^# retry 1 of freeze_once: emulator artefact \(the guest froze' "a frozen guest is detected by its heartbeat"
want '^ok 2 freeze_once$' "the frozen step runs again in the next boot and passes"
want '^# retry 1 of overrun_once: emulator artefact \(step 3 overrun_once still ran 15 s past its limit of 5 s\)' \
	"a step the guest cannot stop is detected by its overrun"
want '^ok 3 overrun_once$' "the overrunning step runs again and passes"
want '^not ok 5 freeze_always # TIMEOUT the guest stopped in this step 2 times' \
	"a step that stops the guest twice is a TIMEOUT"
want '^# retry 1 of int3_once: emulator artefact \(Oops: int3 where memory holds no int3' \
	"QEMU's stale-int3 crash is restarted at its step"
want '^ok 4 int3_once$' "and the step passes"
want '^ok 6 last$' "the plan goes on after it"
want '^1\.\.6$' "the plan ran to its end"
if [ -s "$out/console.boot3.int3.log" ] && ! grep -q 'Kernel panic' "$out/console.log"; then
	echo "ok: the crash is kept in console.boot3.int3.log, out of console.log"
else
	echo "FAILED: the crash's console was not set apart"; failures=$((failures + 1))
fi
for s in first freeze_once overrun_once int3_once last; do
	if grep -q "^$s ran$" "$out/logs/$s.log" 2>/dev/null; then
		echo "ok: $s's log came back"
	else
		echo "FAILED: $s's log did not come back"; failures=$((failures + 1))
	fi
done
if [ -s "$out/boot-retries" ]; then
	echo "FAILED: a stop was charged to no step:"; sed 's/^/  /' "$out/boot-retries"
	failures=$((failures + 1))
else
	echo "ok: every stop was charged to the step that was running"
fi
boots=$(wc -l <"$out/boot-seconds")
if [ "$boots" -eq 6 ]; then
	echo "ok: 6 boots ($(paste -sd+ "$out/boot-seconds") s)"
else
	echo "FAILED: $boots boots, wanted 6"; failures=$((failures + 1))
fi
[ $failures -eq 0 ] || { sed 's/^/  tap: /' "$out/tap.txt"; exit 1; }
