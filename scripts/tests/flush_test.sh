#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the lab guest's results writer (scripts/lab/guest/flush) under
# busybox sh, as in the guest: each call appends one tar archive with what
# changed; the host's `tar --ignore-zeros` gets the latest copy of every
# file, including files written by the first call and a file rewritten
# later; a call with nothing new still refreshes tap.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
flush=$here/../lab/guest/flush
command -v busybox >/dev/null || { echo "flush_test: busybox is missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/res/logs" "$work/state" "$work/out"
truncate -s 8M "$work/disk"
run_flush() {
	# The state files live in the guest's /tmp: keep this test's apart.
	(cd "$work" && IRQPATH_RESULTS_DISK=$work/disk IRQPATH_FLUSH_STATE=$work/state/flush \
		busybox sh "$flush" res)
}
echo k >"$work/res/kunit.txt"
echo a >"$work/res/logs/a.log"
echo "ok 1 a" >"$work/res/tap.txt"
run_flush
echo b >"$work/res/logs/b.log"
echo "ok 2 b" >>"$work/res/tap.txt"
run_flush
echo rewritten >"$work/res/logs/a.log"
run_flush
echo "1..2" >>"$work/res/tap.txt"
run_flush
tar -xif "$work/disk" -C "$work/out"
failures=0
want() { # FILE CONTENT
	if [ "$(cat "$work/out/$1" 2>/dev/null)" = "$2" ]; then
		echo "ok: $1"
	else
		echo "FAILED: $1 is '$(cat "$work/out/$1" 2>/dev/null)', wanted '$2'"
		failures=$((failures + 1))
	fi
}
want kunit.txt k
want logs/a.log rewritten
want logs/b.log b
want tap.txt "$(printf 'ok 1 a\nok 2 b\n1..2')"
archives=$(tar -tif "$work/disk" | grep -c '^\./tap.txt$')
if [ "$archives" -eq 4 ]; then echo "ok: 4 archives"; else echo "FAILED: $archives archives, wanted 4"; failures=$((failures + 1)); fi
[ $failures -eq 0 ] && echo "flush_test: all passed" || { echo "flush_test: $failures failed"; exit 1; }
