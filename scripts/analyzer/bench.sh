#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - `make bench`: irqpath report vs trace-cmd report on the same
# large recording, in the same run.
#
# The recording (build/bench/bench.dat) is the lab's irqfd_delivery_test
# recording (the test fixture) replayed IRQPATH_BENCH_COPIES times (default
# 63: 5.04 million events) by build/analyzer/irqpath-gen, which writes it
# through libtracecmd's output API (trace.dat version 7, zstd, like the
# lab's own recordings).  Each tool reads the whole file once with its
# output thrown away; /usr/bin/time gives wall and CPU time and peak RSS.
# The machine is shared: everything CPU-heavy runs under
# flock /tmp/irqpath-heavy.lock, and the ratio is taken on CPU time (user +
# sys), which other load disturbs least; wall time is printed too.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$root/build/bench
src=${IRQPATH_BENCH_SRC:-$root/scripts/tests/fixtures/analyzer/irqfd_delivery_test.dat}
copies=${IRQPATH_BENCH_COPIES:-63}
gen=$root/build/analyzer/irqpath-gen
irqpath=$root/build/analyzer/irqpath
lock=/tmp/irqpath-heavy.lock
big=$bench/bench.dat
mkdir -p "$bench"

if [ ! -s "$big" ] || [ "$big" -ot "$src" ] || [ "$big" -ot "$gen" ] ||
   [ "$(cat "$big.copies" 2>/dev/null)" != "$copies" ]; then
	echo "bench: generating $big ($copies copies of $(basename "$src"))"
	flock "$lock" "$gen" -n "$copies" "$src" "$big.tmp"
	mv "$big.tmp" "$big"
	echo "$copies" >"$big.copies"
fi

run() { # NAME CMD... -> "wall cpu rss_kb"
	local name=$1 t=$bench/time.$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>"$bench/stderr.$name" ||
		{ echo "bench: $name failed:"; tail -n 5 "$bench/stderr.$name"; exit 1; }
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$t"
}

# Both measurements under one hold of the lock: same conditions.
exec 9>"$lock"
flock 9
events=$("$irqpath" report --no-progress --json - "$big" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["files"][0]["events"])')
echo "bench: $big: $events events, $(du -h "$big" | cut -f1) on disk"
[ "$events" -ge 5000000 ] || { echo "bench: fewer than 5 million events"; exit 1; }
read -r iw ic ir < <(run irqpath "$irqpath" report --no-progress "$big")
read -r tw tc tr < <(run trace-cmd trace-cmd report "$big")
flock -u 9

python3 - "$events" "$iw" "$ic" "$ir" "$tw" "$tc" "$tr" <<'EOF'
import sys
ev = int(sys.argv[1])
iw, ic, ir, tw, tc, tr = map(float, sys.argv[2:])
row = "  {:<22} {:>8.2f} s {:>8.2f} s {:>12.2f} M {:>12.2f} M {:>9.1f} MiB"
print("  {:<22} {:>10} {:>10} {:>14} {:>14} {:>13}".format(
    "", "wall", "cpu", "events/s wall", "events/s cpu", "peak RSS"))
print(row.format("irqpath report", iw, ic, ev / iw / 1e6, ev / max(ic, 0.01) / 1e6, ir / 1024))
print(row.format("trace-cmd report", tw, tc, ev / tw / 1e6, ev / max(tc, 0.01) / 1e6, tr / 1024))
print("  irqpath is {:.1f}x faster (CPU time; {:.1f}x wall); peak RSS {:.1f} MiB (goal: >= 5x, <= 64 MiB)".format(
    tc / max(ic, 0.01), tw / max(iw, 0.01), ir / 1024))
sys.exit(0 if tc / max(ic, 0.01) >= 5 and ir / 1024 <= 64 else 1)
EOF
