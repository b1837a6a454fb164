# SPDX-License-Identifier: GPL-2.0
# Shared helpers for irqpath's workflow scripts.  Source it; do not run it.
#
# Every path irqpath writes lives under $IRQPATH_BUILD (default: build/ in
# the repository, ignored by git).  What must survive a fresh clone on the
# same machine (the committed pristine base tree, ccache) lives under
# $IRQPATH_CACHE (default: ~/.cache/irqpath).

# Entered through the top-level Makefile, the scripts would hand its
# MAKELEVEL and MAKEFLAGS to every make they run; KVM's selftest Makefile
# then builds nothing (its lib.mk keys on MAKELEVEL).  Each sub-make here is
# a top-level make of its own.
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

IRQPATH_ROOT=${IRQPATH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IRQPATH_BUILD=${IRQPATH_BUILD:-$IRQPATH_ROOT/build}
IRQPATH_CACHE=${IRQPATH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/irqpath}
IRQPATH_LINUX=${IRQPATH_LINUX:-$IRQPATH_BUILD/linux}
IRQPATH_JOBS=${IRQPATH_JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$IRQPATH_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
# The kernel build embeds no timestamps we care about; keep ccache's
# direct mode effective across object directories.
export CCACHE_NOHASHDIR=1

# Debian package that provides the base tree, and the branch/tag names
# used inside $IRQPATH_LINUX.
IRQPATH_SRCPKG=${IRQPATH_SRCPKG:-linux-source-6.12}
IRQPATH_SERIES_BRANCH=series

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_cmd CMD PACKAGE: install PACKAGE with apt-get when CMD is missing,
# and name the package if that is impossible.
need_cmd() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 && return 0
	need_pkg "$pkg"
	command -v "$cmd" >/dev/null 2>&1 ||
		die "'$cmd' is still missing after installing Debian package '$pkg'"
}

# need_pkg PACKAGE...: apt-get install what is not installed yet.
need_pkg() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing Debian package(s): ${missing[*]} (run as root or install them)"
	log "installing: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}" >"$IRQPATH_BUILD/apt.log" 2>&1; then
		# A stale package list is the usual cause on a fresh machine.
		apt-get update -q >>"$IRQPATH_BUILD/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}" >>"$IRQPATH_BUILD/apt.log" 2>&1 ||
			{ tail -n 5 "$IRQPATH_BUILD/apt.log" >&2
			  die "cannot install Debian package(s): ${missing[*]}"; }
	fi
}

# Everything the workflow and the lab use, by Debian package.
IRQPATH_HOST_PKGS=(
	"$IRQPATH_SRCPKG" build-essential bc bison flex libelf-dev libssl-dev
	xz-utils zstd cpio kmod rsync ccache git perl python3 python3-ply python3-git
	qemu-system-x86 busybox-static trace-cmd
	libtracecmd-dev libtraceevent-dev libtracefs-dev pkg-config clang-14 time
)

need_host_pkgs() {
	mkdir -p "$IRQPATH_BUILD"
	need_pkg "${IRQPATH_HOST_PKGS[@]}"
}

# The Debian version of the base package, e.g. 6.12.118-1~deb12u1, and the
# upstream version it carries, e.g. 6.12.118.
base_pkg_version() {
	dpkg-query -W -f='${Version}' "$IRQPATH_SRCPKG" 2>/dev/null
}
base_tag() {
	local v
	v=$(base_pkg_version) || return 1
	[ -n "$v" ] || return 1
	printf 'base/%s\n' "$(printf '%s' "$v" | tr '~:' '__')"
}

# run_logged LOG CMD...: run CMD with its output in LOG; on failure show
# the compiler's or tool's own error lines, not the whole log.
run_logged() {
	local logf=$1; shift
	if "$@" >"$logf" 2>&1; then
		return 0
	fi
	local rc=$?
	printf '\n--- %s failed (rc %d); errors from %s:\n' "$*" "$rc" "$logf" >&2
	if grep -nE '(error|Error|ERROR)[: ]|undefined reference|\*\*\*' "$logf" >/dev/null; then
		grep -nE -B2 -A3 '(error|Error|ERROR)[: ]|undefined reference|\*\*\*' "$logf" | head -n 60 >&2
	else
		tail -n 30 "$logf" >&2
	fi
	return $rc
}
