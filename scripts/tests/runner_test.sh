#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the lab runner's retry rule (scripts/lab/guest/runner): only the
# known environment signatures are retried; a count mismatch or an
# assertion that merely prints a stale errno never is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$(sed -n '/^artefact()/,/^}/p' "$here/../lab/guest/runner")"
failures=0
expect() { # FIXTURE WANTED-SIGNATURE ("" = not retried)
	local got
	got=$(artefact "$here/fixtures/$1")
	if [ "$got" = "$2" ]; then
		echo "ok: $1 -> '${got}'"
	else
		echo "FAILED: $1 -> '$got', wanted '$2'"; failures=$((failures + 1))
	fi
}
expect shutdown.log "KVM_EXIT_SHUTDOWN"
expect eintr-pread.log "EINTR in a host syscall"
expect apic-bus-clock-skew.log "TCG clock skew in apic_bus_clock_test's frequency measurement"
expect pir-fault-loop.log "endless fault loop of the nested vCPU"
expect pir-frozen-cpu.log "a CPU frozen in the nested guest (no timer interrupt in 200 ms)"
expect pir-duplicate.log ""
expect stale-errno.log ""
expect count-mismatch.log ""
[ $failures -eq 0 ] && echo "runner_test: all passed" || { echo "runner_test: $failures failed"; exit 1; }
