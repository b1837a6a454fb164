#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the one kernel crash the lab restarts (stale_int3 in
# scripts/lab/run.sh): an "Oops: int3" whose Code: line shows no int3 before
# the trap's return address (a real console of the lab, CI on 2026-12-06)
# is QEMU's; the same Oops with an int3 (cc) in memory is the kernel's, and
# so is any other crash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
eval "$(sed -n '/^stale_int3()/,/^}/p' "$here/../lab/run.sh")"
failures=0
expect() { # FIXTURE WANTED ("" = not the artefact)
	local got
	got=$(stale_int3 "$here/fixtures/$1" || true)
	if [ "$got" = "$2" ]; then
		echo "ok: $1 -> '$got'"
	else
		echo "FAILED: $1 -> '$got', wanted '$2'"; failures=$((failures + 1))
	fi
}
expect int3-stale-text.console 4
expect int3-real.console ""
expect shutdown.log ""
# Another oops first: the kernel's, whatever follows.
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
{ echo "[    1.0] Oops: general protection fault, probably for non-canonical address"; cat "$here/fixtures/int3-stale-text.console"; } >"$tmp"
got=$(stale_int3 "$tmp" || true)
[ -z "$got" ] && echo "ok: an earlier oops is the kernel's" || { echo "FAILED: earlier oops -> '$got'"; failures=$((failures + 1)); }
# An int3 Oops whose Code: line never reached the console: no evidence.
head -n 4 "$here/fixtures/int3-stale-text.console" | grep -v 'Code:' >"$tmp"
got=$(stale_int3 "$tmp" || true)
[ -z "$got" ] && echo "ok: an int3 Oops without its Code: line is the kernel's" ||
	{ echo "FAILED: no Code: line -> '$got'"; failures=$((failures + 1)); }
[ $failures -eq 0 ] && echo "stale_int3_test: all passed" || { echo "stale_int3_test: $failures failed"; exit 1; }
