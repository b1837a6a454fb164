#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the lab guest's results writer (scripts/lab/guest/flush, under
# busybox sh as in the guest) and of the host's rule for a whole verdict
# (whole_status and its ends_in_newline in scripts/lab/run.sh):
#  - each call appends what changed; `tar --ignore-zeros` on the host gets
#    the latest copy of every file, the first call's files included;
#  - within a call the step's data precedes its verdict (status/NNNN);
#  - a verdict whose write was cut short (header on the disk, data still
#    zeros) is not taken as a result, while the earlier ones still are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
flush=$here/../lab/guest/flush
eval "$(sed -n '/^ends_in_newline()/,/^}/p; /^whole_status()/,/^}/p' "$here/../lab/run.sh")"
command -v busybox >/dev/null || { echo "flush_test: busybox is missing"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/res/logs" "$work/res/status" "$work/state" "$work/out"
truncate -s 8M "$work/disk"
failures=0
ok() { echo "ok: $1"; }
bad() { echo "FAILED: $1"; failures=$((failures + 1)); }
run_flush() {
	(cd "$work" && IRQPATH_RESULTS_DISK=$work/disk IRQPATH_FLUSH_STATE=$work/state/flush \
		busybox sh "$flush" res)
}
echo k >"$work/res/kunit.txt"
echo a >"$work/res/logs/a.log"
printf '=times a 0.1 0 0\nok 1 a\n' >"$work/res/status/0001"
run_flush
echo b >"$work/res/logs/b.log"
printf '# retry 1 of b: emulator artefact (x), rc 1\n=times b 0.2 0 1\nok 2 b\n' >"$work/res/status/0002"
run_flush
echo rewritten >"$work/res/logs/a.log"
run_flush
echo dmesg >"$work/res/dmesg.txt"
echo "1..2" >"$work/res/status/end"
run_flush

tar -xif "$work/disk" -C "$work/out"
want() { # FILE CONTENT
	if [ "$(cat "$work/out/$1" 2>/dev/null)" = "$2" ]; then ok "$1"
	else bad "$1 is '$(cat "$work/out/$1" 2>/dev/null)', wanted '$2'"; fi
}
want kunit.txt k
want logs/a.log rewritten
want logs/b.log b
want dmesg.txt dmesg
want status/end "1..2"
if whole_status "$work/out/status/0001" 1 && whole_status "$work/out/status/0002" 2; then
	ok "both verdicts whole"
else
	bad "a verdict that was written whole is rejected"
fi
whole_status "$work/out/status/0002" 1 && bad "verdict 2 taken for step 1" || ok "a verdict names its step"

# Member order on the disk: logs/b.log, then status/0002.
order=$(tar -tif "$work/disk" | grep -n 'logs/b.log\|status/0002' | cut -d: -f2 | paste -sd' ')
[ "$order" = "./logs/b.log ./status/0002" ] && ok "data before verdict" || bad "member order: $order"
archives=$(tar -tif "$work/disk" | grep -c '^\./status/')
[ "$archives" -eq 3 ] && ok "3 verdict files written once each" || bad "$archives verdict members, wanted 3"

# A freeze after status/0002's header reached the disk: its data block
# is still zeros.
blk=$(tar -R -tif "$work/disk" | sed -n 's|^block \([0-9]*\): \./status/0002$|\1|p')
cp "$work/disk" "$work/torn"
dd if=/dev/zero of="$work/torn" bs=512 seek=$((blk + 1)) count=1 conv=notrunc 2>/dev/null
mkdir "$work/torn.out"
tar -xif "$work/torn" -C "$work/torn.out"
if whole_status "$work/torn.out/status/0001" 1 && ! whole_status "$work/torn.out/status/0002" 2; then
	ok "a verdict cut short is not a result; the one before it still is"
else
	bad "torn verdict: $(od -c "$work/torn.out/status/0002" | head -n 2)"
fi
[ $failures -eq 0 ] && echo "flush_test: all passed" || { echo "flush_test: $failures failed"; exit 1; }
