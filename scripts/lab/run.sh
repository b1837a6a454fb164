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
# OUTDIR/console.log, the guest's heartbeat (second serial port) to
# OUTDIR/heartbeat.log.  The guest appends each step's results to a raw
# virtio disk as tar archives (scripts/lab/guest/flush); they are unpacked
# into OUTDIR.
#
# A guest that stops making progress is restarted where it stopped.  Under
# TCG the whole guest now and then freezes (seen once in a base-kernel
# suite run: no console line for 30 minutes, after hyperv_svm_test), and
# QEMU now and then exits 0 with no panic and no results (a silent guest
# reset).  Either ends this boot; the results of the steps it finished are
# kept, and the next boot runs the plan from the step that was in
# progress.  A step is restarted at most IRQPATH_STEP_RESTARTS times
# (default 1); when it stops the guest once more it is reported as
# "not ok ... # TIMEOUT" and the plan goes on after it.  Every restart is
# reported in OUTDIR/tap.txt ("# retry ...") with its reason and the boot
# that ran it.  What counts as no progress:
#   - no heartbeat line for IRQPATH_HEARTBEAT_STALL seconds (default 90;
#     the guest writes one every 5 s), or none within IRQPATH_BOOT_WAIT
#     seconds of the start (default 300);
#   - a step still running IRQPATH_STEP_MARGIN seconds (default 60) past
#     its own limit, by the guest's clock: the runner kills a step at its
#     limit, so the guest could not.
# A guest that stops outside a step (booting, or writing results between
# steps) is restarted at the first step without a result, charged to no
# step, at most IRQPATH_BOOT_RESTARTS times (default 2); each such restart
# is noted in OUTDIR/boot-retries.  A kernel panic is never restarted,
# with one exception whose signature is QEMU's own (stale_int3 below): the
# crash goes to OUTDIR/console.bootN.int3.log, and the step it hit is
# restarted like a frozen one.
# A step's result counts only once the guest's verdict file for it came
# back whole (see scripts/lab/guest/flush).
#
# Exit status: 0 when every step of the plan has a result in OUTDIR/tap.txt,
# 1 otherwise (panic, QEMU failure, or TIMEOUT_SECS, default 1500, spent
# over all boots; the results so far are still unpacked into OUTDIR).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

kernel=${1:?usage: run.sh KERNEL INITRAMFS PLAN OUTDIR [TIMEOUT]}
initrd=${2:?}
plan=${3:?}
out=${4:?}
limit=${5:-1500}
hb_stall=${IRQPATH_HEARTBEAT_STALL:-90}
boot_wait=${IRQPATH_BOOT_WAIT:-300}
step_margin=${IRQPATH_STEP_MARGIN:-60}
max_restarts=${IRQPATH_STEP_RESTARTS:-1}
max_boot_restarts=${IRQPATH_BOOT_RESTARTS:-2}
need_cmd qemu-system-x86_64 qemu-system-x86
need_cmd cpio cpio
for f in "$kernel" "$initrd" "$plan"; do [ -r "$f" ] || die "missing $f"; done

rm -rf "$out"; mkdir -p "$out"
stage=$(mktemp -d)
qpid=
trap 'if [ -n "$qpid" ]; then kill -KILL "$qpid" 2>/dev/null || true; fi; rm -rf "$stage"' EXIT
: >"$out/tap.txt"
: >"$out/times.txt"

# The plan's steps, numbered as the runner numbers them: "N NAME".
is_step='$1 == "test" || $1 == "trace" || $1 == "sh" || $1 == "tracesh"'
awk "$is_step"' { print ++n, $2 }' "$plan" >"$stage/steps"
total=$(wc -l <"$stage/steps")
step_name() { awk -v n="$1" '$1 == n { print $2 }' "$stage/steps"; }

# The initramfs of a boot that starts at step $1: the plan from there on
# (with the KUnit step, which only copies the boot's report) travels as a
# second archive appended to the image.
make_initrd() {
	rm -rf "$stage/root"; mkdir -p "$stage/root/irqpath"
	{
		echo "start $1"
		awk -v first="$1" "$is_step"' { if (++n >= first) print; next }
			$1 == "kunit" { print }' "$plan"
	} >"$stage/root/irqpath/plan"
	cp "$initrd" "$out/.initrd"
	(cd "$stage/root" && find . | cpio -o -H newc --owner 0:0 --quiet) >>"$out/.initrd"
}

# Whether FILE ends with a newline, i.e. its last line is complete.
ends_in_newline() { # FILE
	[ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' \n')" = 0a ]
}

# The last complete heartbeat line: "UPTIME" between steps, "UPTIME N NAME
# SECS START" during step N.  The UART delivers a line in pieces, so a last
# line without its newline is not read yet.
heartbeat() {
	local hb=$out/heartbeat.log
	[ -s "$hb" ] || return 0
	if ends_in_newline "$hb"; then
		tail -n 1 "$hb"
	else
		tail -n 2 "$hb" | head -n 1
	fi | tr -d '\r' | awk '
		$1 !~ /^[0-9]+\.[0-9]+$/ { exit }
		NF == 1 { print; exit }
		NF == 5 && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+\.[0-9]+$/ { print }'
}

# Boot once; watch the heartbeat.  Sets $verdict: "done" (QEMU exited by
# itself), "stall: WHY" or "timeout"; $qemu_rc; and $inprog, the step that
# was running when the boot ended (empty: none).
boot() { # CONSOLE TIME_LEFT
	local console=$1 left=$2 t0 now hb_size=0 hb_new hb_seen=0 hb_last last
	truncate -s 0 "$out/results.img"
	truncate -s 1600M "$out/results.img"
	: >"$out/heartbeat.log"
	t0=$(date +%s)
	qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m 2G \
		-machine q35,kernel-irqchip=split \
		-device intel-iommu,intremap=on \
		-device edu \
		-kernel "$kernel" -initrd "$out/.initrd" \
		-append "console=ttyS0,115200 panic=-1 tsc=reliable intel_iommu=on kvm_amd.nested=1 ${IRQPATH_CMDLINE:-}" \
		-drive file="$out/results.img",format=raw,if=virtio,cache=unsafe \
		-display none -monitor none \
		-serial file:"$console" -serial file:"$out/heartbeat.log" \
		-no-reboot </dev/null >"$out/qemu.log" 2>&1 &
	qpid=$!
	hb_last=$t0
	verdict="done"
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ $((now - t0)) -ge "$left" ]; then
			verdict=timeout
		else
			hb_new=$(stat -c %s "$out/heartbeat.log")
			if [ "$hb_new" -ne "$hb_size" ]; then
				hb_size=$hb_new hb_seen=1 hb_last=$now
			fi
			last=$(heartbeat)
			if [ $hb_seen -eq 0 ] && [ $((now - t0)) -ge "$boot_wait" ]; then
				verdict="stall: no heartbeat within ${boot_wait} s of the boot"
			elif [ $hb_seen -eq 1 ] && [ $((now - hb_last)) -ge "$hb_stall" ]; then
				verdict="stall: the guest froze, no heartbeat for ${hb_stall} s"
			elif echo "$last" | awk -v m="$step_margin" \
					'NF == 5 && $1 - $5 > $4 + m { found = 1 } END { exit !found }'; then
				verdict="stall: step $(echo "$last" | cut -d' ' -f2,3) still ran ${step_margin} s past its limit of $(echo "$last" | cut -d' ' -f4) s"
			fi
		fi
		if [ "$verdict" != "done" ]; then
			kill -TERM "$qpid" 2>/dev/null || true
			for _ in 1 2 3 4 5; do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
			kill -KILL "$qpid" 2>/dev/null || true
			break
		fi
	done
	qemu_rc=0
	wait "$qpid" || qemu_rc=$?
	qpid=
	# The runner names each step on the console before it starts it and
	# its result after the result is on the disk.
	inprog=$(tr -d '\r' <"$console" | awk '
		/^irqpath-lab: step [0-9]+ / { cur = $3 }
		/^irqpath-lab: (not )?ok [0-9]+ / { n = ($2 == "not") ? $4 : $3; if (n == cur) cur = "" }
		END { print cur }')
	echo $(( $(date +%s) - t0 )) >>"$out/boot-seconds"
}

# The one kernel crash that is QEMU's: an int3 trap at an address whose
# memory holds no int3.  The kernel patches static calls and jump labels
# (a tracepoint enabled by trace-cmd record) by writing int3 over the
# first byte, then the new instruction, then the first byte, with a
# core-serializing IPI to every CPU between the steps; its int3 handler
# emulates the instruction only while the patch is in progress.  Under
# TCG a vCPU now and then still runs its translation of the int3 after
# the patch is complete (seen once, in __schedule's sched_switch call,
# as trace-cmd started recording; the oops's Code: line shows the call
# back in place), and the kernel dies of "Oops: int3".  Prints the
# console line of the Oops when CONSOLE's first Oops is such a trap: the
# byte before the one the Code: line marks with <..> (the trap's return
# address) is not 0xcc.
stale_int3() { # CONSOLE
	tr -d '\r' <"$1" | awk '
		/Oops: / && !oops { if ($0 !~ /Oops: int3/) exit; oops = NR; next }
		oops && /Code: / {
			n = split($0, b, " ")
			for (i = 2; i <= n; i++)
				if (b[i] ~ /^<[0-9a-f][0-9a-f]>$/ && b[i - 1] ~ /^[0-9a-f][0-9a-f]$/ && b[i - 1] != "cc") {
					print oops; found = 1; exit
				}
			exit
		}
		END { exit !found }'
}

# A verdict file of the runner (status/NNNN) is a result only when it is
# whole: no NUL byte (a write cut short leaves zeros), a final newline,
# and as its last line the TAP line of step $2.
whole_status() { # FILE N
	[ -s "$1" ] && tr -d '\000' <"$1" | cmp -s - "$1" &&
		ends_in_newline "$1" &&
		tail -n 1 "$1" | grep -qE "^(not )?ok $2 "
}

# Unpack this boot's results disk into OUTDIR: the verdicts of steps
# FIRST, FIRST+1, ... for as long as they are whole go to tap.txt and
# times.txt; every other file replaces its earlier copy.  Sets $done_upto
# (the last step with a result) and $complete (the runner's "1..N" came
# back and every step has a result).
merge() { # FIRST_STEP
	local dir=$stage/disk n f
	rm -rf "$dir"; mkdir -p "$dir"
	if ! tar -xif "$out/results.img" -C "$dir" 2>"$stage/tar.err"; then
		echo "lab: boot $nboot's results disk: $(head -n 1 "$stage/tar.err")" >&2
	fi
	n=$1
	while f=$dir/status/$(printf %04d "$n") && whole_status "$f" "$n"; do
		# Its retries column counts the host's restarts of it too.
		sed -n 's/^=times //p' "$f" |
			awk -v r="${restarts[$n]:-0}" 'NF == 4 { $4 += r } { print }' >>"$out/times.txt"
		grep -v '^=times ' "$f" >>"$out/tap.txt"
		n=$((n + 1))
	done
	done_upto=$((n - 1))
	complete=0
	if [ "$done_upto" -eq "$total" ] && [ "$(cat "$dir/status/end" 2>/dev/null)" = "1..$total" ]; then
		complete=1
	fi
	rm -rf "$dir/status"
	cp -a "$dir/." "$out/"
}

t_start=$(date +%s)
first=1
nboot=0
boot_restarts=0
declare -A restarts=()
while :; do
	nboot=$((nboot + 1))
	make_initrd "$first"
	console=$out/console.log
	[ $nboot -eq 1 ] || console=$out/console.boot$nboot.log
	boot "$console" $((limit - ($(date +%s) - t_start)))
	artefact_why=
	if grep -q 'Kernel panic' "$console" && oops_line=$(stale_int3 "$console"); then
		# The console up to the Oops stays in console.log (and is checked
		# for kernel reports); the crash itself is kept beside it.
		artefact_why="Oops: int3 where memory holds no int3, QEMU ran stale code of a kernel text patch"
		tail -n +"$oops_line" "$console" >"$out/console.boot$nboot.int3.log"
		head -n $((oops_line - 1)) "$console" >"$stage/console.cut"
		printf '==== irqpath-lab: boot %d ended in an emulator artefact (%s): console.boot%d.int3.log ====\n' \
			"$nboot" "$artefact_why" "$nboot" >>"$stage/console.cut"
		cp "$stage/console.cut" "$console"
	fi
	if [ $nboot -gt 1 ]; then
		printf '\n==== irqpath-lab: boot %d, from step %d ====\n' "$nboot" "$first" >>"$out/console.log"
		cat "$console" >>"$out/console.log"; rm -f "$console"
	fi
	merge "$first"
	if [ $complete -eq 1 ]; then
		echo "1..$total" >>"$out/tap.txt"
		break
	fi
	if [ "$verdict" = timeout ]; then
		printf 'lab: TIMEOUT: the guest ran past %s s in all; console tail (%s):\n' "$limit" "$out/console.log" >&2
		tail -n 40 "$out/console.log" >&2
		exit 1
	fi
	if grep -q 'Kernel panic' "$out/console.log"; then
		printf 'lab: kernel panic; console tail (%s):\n' "$out/console.log" >&2
		tail -n 40 "$out/console.log" >&2
		exit 1
	fi
	if [ "$verdict" = "done" ]; then
		[ "$qemu_rc" -eq 0 ] || { cat "$out/qemu.log" >&2; die "qemu exited $qemu_rc"; }
		# QEMU exits 0 when it is killed by a signal: that is not the guest.
		if grep -q 'terminating on signal' "$out/qemu.log"; then
			cat "$out/qemu.log" >&2
			die "qemu was killed from outside"
		fi
		why=${artefact_why:-"QEMU exited 0 with no panic before the plan's end (a silent guest reset)"}
	else
		why=${verdict#stall: }
	fi
	first=$((done_upto + 1))
	if [ "${inprog:-0}" -ne "$first" ]; then
		# Not in a step: booting, between steps, or writing results.  The
		# next boot starts at the first step without a result, charged to
		# no step.
		boot_restarts=$((boot_restarts + 1))
		if [ $boot_restarts -gt "$max_boot_restarts" ]; then
			echo "lab: the guest stopped outside a step $boot_restarts times, the last: $why" >&2
			tail -n 40 "$out/console.log" >&2
			exit 1
		fi
		if [ "$first" -gt "$total" ]; then
			echo "boot $nboot stopped after the plan's last step ($why): its dmesg.txt and interrupts.txt are missing" |
				tee -a "$out/boot-retries" >&2
			echo "1..$total" >>"$out/tap.txt"
			break
		fi
		echo "boot $nboot stopped outside a step ($why): boot $((nboot + 1)) runs the plan from step $first" |
			tee -a "$out/boot-retries" >&2
		continue
	fi
	name=$(step_name "$first")
	# Keep the stopped attempt's output beside the next one's.
	[ ! -e "$out/logs/$name.log" ] || mv "$out/logs/$name.log" "$out/logs/$name.boot$nboot.log"
	restarts[$first]=$(( ${restarts[$first]:-0} + 1 ))
	if [ "${restarts[$first]}" -le "$max_restarts" ]; then
		echo "# retry ${restarts[$first]} of $name: emulator artefact ($why), boot $((nboot + 1)) runs the plan again from step $first" |
			tee -a "$out/tap.txt" >&2
	else
		echo "lab: $name stopped the guest again ($why): reported as a TIMEOUT, the plan goes on" >&2
		echo "not ok $first $name # TIMEOUT the guest stopped in this step $((max_restarts + 1)) times, the last: $why" >>"$out/tap.txt"
		echo "$name 0.0 137 $max_restarts" >>"$out/times.txt"
		first=$((first + 1))
		if [ "$first" -gt "$total" ]; then
			echo "1..$total" >>"$out/tap.txt"
			break
		fi
	fi
done
rm -f "$out/results.img" "$out/.initrd"
exit 0
