#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs-check.sh - do the series' documentation changes add Sphinx warnings?
#
# Usage: scripts/docs-check.sh TREE [BASE]
#
#   TREE  a kernel source tree with the series applied
#   BASE  the tree to compare with: a directory (a pristine source tree), or
#         a git revision of TREE (exported to a scratch directory); without
#         it, every warning of TREE counts as new
#
# Builds the HTML of Documentation/virt (what `make SPHINXDIRS=virt
# htmldocs` builds: the KVM docs and their siblings) of both trees, keeps
# the WARNING/ERROR/SEVERE/CRITICAL lines, and compares them with the path
# made relative to the tree and line numbers removed, so that text moved by
# the series does not count.  Prints "docs: N new warnings", the new ones,
# and exits 1 when N > 0 (2 when a build fails or a tool is missing).
#
# Why sphinx-build and not make: in 6.12, `make htmldocs` first regenerates
# Documentation/networking/netlink_spec/*.rst inside the source tree (also
# with O=), and its Makefile runs documentation-file-ref-check and
# get_abi.pl over the whole tree on every invocation.  BASE must stay
# untouched, so this runs the Makefile's own sphinx-build command (same
# conf.py, same SPHINX_CONF and kernel-doc settings) with the source read
# only and every output under a scratch directory.
#
# Needs Sphinx (Debian 12: python3-sphinx 5.3, alabaster theme) and PyYAML
# (Documentation/sphinx/requirements.txt); installs them with apt-get when
# missing and running as root.  Graphviz is optional (only kernel-figure
# uses it; Documentation/virt has none): its absence gives the same
# warning in both trees.
#
# Environment:
#   DOCS_CHECK_DIRS  Documentation subdirectories to build (default: virt)
#   DOCS_CHECK_LOCK  lock file held around each build, to share the CPUs
#                    (default /tmp/irqpath-heavy.lock; empty: no lock).
#                    Do not also run this script under flock on that file.
#   DOCS_CHECK_KEEP  1: keep the scratch directory (HTML and logs)
#   SPHINX_JOBS      sphinx-build -j value (default 1)

set -euo pipefail

usage() {
	echo "usage: $0 TREE [BASE_TREE|BASE_REV]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
tree=$(cd "$1" && pwd) || usage
base_arg=${2-}
dirs=${DOCS_CHECK_DIRS:-virt}
lock=${DOCS_CHECK_LOCK-/tmp/irqpath-heavy.lock}
jobs=${SPHINX_JOBS:-1}

[ -f "$tree/Documentation/conf.py" ] || { echo "$tree: no Documentation/conf.py" >&2; exit 2; }

# --- tools -----------------------------------------------------------------
# Check with the interpreter sphinx-build runs on (Debian's), not whatever
# python3 comes first in PATH.
sphinx_py() {
	local sb
	sb=$(command -v sphinx-build 2>/dev/null) || { echo /usr/bin/python3; return; }
	sed -n '1s/^#! *//p' "$sb"
}
need_pkgs=()
sphinx-build --version >/dev/null 2>&1 || need_pkgs+=(python3-sphinx)
$(sphinx_py) -c 'import yaml' 2>/dev/null || need_pkgs+=(python3-yaml)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "docs-check: missing ${need_pkgs[*]}; install them (apt-get install ${need_pkgs[*]})" >&2
		exit 2
	fi
	echo "docs-check: installing ${need_pkgs[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null; }
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/docs-check.XXXXXX")
cleanup() {
	if [ "${DOCS_CHECK_KEEP:-0}" = 1 ]; then
		echo "docs-check: kept $scratch" >&2
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT

# --- the base tree ---------------------------------------------------------
base=
if [ -n "$base_arg" ]; then
	if [ -d "$base_arg" ]; then
		base=$(cd "$base_arg" && pwd)
	elif git -C "$tree" rev-parse --verify -q "$base_arg^{commit}" >/dev/null 2>&1; then
		base=$scratch/base-src
		mkdir -p "$base"
		# conf.py reads the version from the top Makefile; kernel-doc
		# directives need scripts/.
		git -C "$tree" archive "$base_arg" Makefile Documentation scripts |
			tar -x -C "$base"
	else
		echo "$base_arg: neither a directory nor a revision of $tree" >&2
		exit 2
	fi
	[ -f "$base/Documentation/conf.py" ] || { echo "$base: no Documentation/conf.py" >&2; exit 2; }
fi

# --- build -----------------------------------------------------------------
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# build NAME SRCTREE: HTML of $dirs into $scratch/NAME, warnings into
# $scratch/NAME.warn (raw) and $scratch/NAME.norm (normalised).
build() {
	local name=$1 src=$2 d out rc=0 t0 t1 lfd=

	out=$scratch/$name
	mkdir -p "$out"
	: >"$out.log"
	for d in $dirs; do
		[ -d "$src/Documentation/$d" ] || { echo "$src/Documentation/$d: missing" >&2; return 2; }
		local conf=
		[ -f "$src/Documentation/$d/conf.py" ] && conf=$src/Documentation/$d/conf.py
		# Wait for the lock first, so that the time is the build's.
		if [ -n "$lock" ]; then
			exec {lfd}>>"$lock"
			flock "$lfd"
		fi
		t0=$(now)
		# As the Makefile's cmd_sphinx, minus the source-tree writes.
		(cd "$src/Documentation" &&
		 env PYTHONDONTWRITEBYTECODE=1 \
			BUILDDIR="$out" SPHINX_CONF="$conf" \
			sphinx-build -q -j "$jobs" -b html -c "$src/Documentation" \
			-d "$out/.doctrees/$d" \
			-D kerneldoc_srctree="$src" \
			-D kerneldoc_bin="$src/scripts/kernel-doc" \
			"$src/Documentation/$d" "$out/$d") \
			>>"$out.log" 2>&1 || rc=$?
		t1=$(now)
		[ -n "$lfd" ] && exec {lfd}>&-
		printf 'docs-check: %s %s: sphinx-build %ss (exit %d)\n' \
			"$name" "$d" "$(elapsed "$t0" "$t1")" "$rc" >&2
		[ $rc -eq 0 ] || { tail -20 "$out.log" >&2; return 2; }
	done
	grep -E '(WARNING|ERROR|SEVERE|CRITICAL):' "$out.log" >"$out.warn" || true
	# Relative paths, no line numbers ("file.rst:123:" and docstring
	# offsets "file.rst:123: ..." or ":docstring of x:4:").
	sed -e "s|$src/||g" -e 's/:[0-9][0-9]*:/:/g' "$out.warn" >"$out.norm"
}

start=$(now)
build patched "$tree" || exit 2
if [ -n "$base" ]; then
	build base "$base" || exit 2
else
	: >"$scratch/base.norm"
fi

# New = patched warnings not matched one for one by a base warning.
paste -d '\t' "$scratch/patched.norm" "$scratch/patched.warn" |
	awk -F '\t' 'NR == FNR { seen[$0]++; next }
		     seen[$1] > 0 { seen[$1]--; next }
		     { print $2 }' "$scratch/base.norm" - >"$scratch/new.warn"

n=$(wc -l <"$scratch/new.warn")
printf 'docs-check: patched %d warnings, base %d; %ss in all\n' \
	"$(wc -l <"$scratch/patched.warn")" "$(wc -l <"$scratch/base.norm")" \
	"$(elapsed "$start" "$(now)")" >&2
echo "docs: $n new warnings"
sed "s|$tree/||" "$scratch/new.warn"
[ "$n" -eq 0 ]
