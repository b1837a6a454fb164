#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh - configure and build a lab kernel in a kernel work tree.
#
# Usage: scripts/kernel/build.sh TREE [make targets...]
#
# TREE is a git work tree of the kernel (build/linux for the series,
# build/linux-base for the pristine base).  The config is tinyconfig plus
# configs/lab.config plus configs/debug.config (IRQPATH_FRAGMENTS overrides
# the list); it is regenerated only when a fragment changes, and every
# option the fragments ask for must survive olddefconfig.  Objects go
# through ccache, so the base and the series share most of them.
# Default targets: bzImage.  The make log is TREE/.irqpath-build.log.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

tree=${1:?usage: build.sh TREE [targets...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bzImage)
[ -f "$tree/Makefile" ] || die "$tree is not a kernel tree"
fragments=${IRQPATH_FRAGMENTS:-"$IRQPATH_ROOT/configs/lab.config $IRQPATH_ROOT/configs/debug.config"}
need_cmd ccache ccache
need_cmd flex flex
need_cmd bison bison
need_pkg libelf-dev libssl-dev bc

# shellcheck disable=SC2086
stamp=$(cat $fragments | sha1sum | cut -c1-16)
if [ ! -f "$tree/.config" ] || [ "$(cat "$tree/.irqpath-config" 2>/dev/null)" != "$stamp" ]; then
	log "configuring $tree: tinyconfig + $(for f in $fragments; do basename "$f"; done | tr '\n' ' ')"
	run_logged "$tree/.irqpath-config.log" make -C "$tree" tinyconfig
	# shellcheck disable=SC2086
	(cd "$tree" && run_logged .irqpath-config.log \
		scripts/kconfig/merge_config.sh -m .config $fragments)
	run_logged "$tree/.irqpath-config.log" make -C "$tree" olddefconfig
	bad=0
	# shellcheck disable=SC2086
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n)
			opt=${line%%=*}
			if grep -q "^$opt=" "$tree/.config"; then
				printf 'config: %s asked, got %s\n' "$line" \
					"$(grep "^$opt=" "$tree/.config")" >&2
				bad=1
			fi ;;
		CONFIG_*=*)
			if ! grep -qx "$line" "$tree/.config"; then
				printf 'config: %s asked, got "%s" (a dependency is missing)\n' \
					"$line" "$(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo unset)" >&2
				bad=1
			fi ;;
		esac
	done < <(cat $fragments | sed 's/[[:space:]]*#.*//' | grep '^CONFIG_')
	[ $bad -eq 0 ] || die "the config fragments do not survive olddefconfig in $tree"
	echo "$stamp" >"$tree/.irqpath-config"
fi

log "building ${targets[*]} in $tree (-j$IRQPATH_JOBS, log: $tree/.irqpath-build.log)"
start=$(date +%s)
run_logged "$tree/.irqpath-build.log" \
	make -C "$tree" -j"$IRQPATH_JOBS" CC="ccache gcc" HOSTCC="ccache gcc" "${targets[@]}"
log "built ${targets[*]} in $(( $(date +%s) - start )) s"
